"""The ARM emulator: Microsoft.KubernetesConfiguration and friends over HTTPS, for the real Azure SDK."""

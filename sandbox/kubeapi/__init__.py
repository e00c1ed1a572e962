"""The sandbox's Kubernetes API: one per emulated cluster, served from one HTTPS server."""

"""The ``/flux`` flags that describe a Flux configuration's source (``--url``, ``--branch``, ``--kind``...).

The grammar only reads these flags into ``Options``; what they mean, per source kind, and the rules az
applies to them are in ``bot.sources`` (``build_source``), shared with the fleet files.
"""

from __future__ import annotations

from bot.grammar.flags import Arity, Flag

URL = Flag("url", ("--url", "-u"), metavar="URL")
BRANCH = Flag("branch", ("--branch",), metavar="BRANCH")
TAG = Flag("tag", ("--tag",), metavar="TAG")
SEMVER = Flag("semver", ("--semver",), metavar="RANGE")
COMMIT = Flag("commit", ("--commit",), metavar="SHA")
DIGEST = Flag("digest", ("--digest",), metavar="sha256:DIGEST")
KIND = Flag("kind", ("--kind", "--source-kind"), metavar="git|bucket|azblob|oci")
INTERVAL = Flag("interval", ("--interval", "--sync-interval"), metavar="DURATION")
TIMEOUT = Flag("timeout", ("--timeout",), metavar="DURATION")
DEPLOY_KEY = Flag("deploy_key", ("--deploy-key",), metavar="generate")
HTTPS_USER = Flag("https_user", ("--https-user",), metavar="USER")
HTTPS_KEY_REF = Flag("https_key_ref", ("--https-key-ref",), metavar="REF")
SSH_KEY_REF = Flag("ssh_private_key_ref", ("--ssh-private-key-ref",), metavar="REF")
KNOWN_HOSTS_REF = Flag("known_hosts_ref", ("--known-hosts-ref",), metavar="REF")
LOCAL_AUTH_REF = Flag("local_auth_ref", ("--local-auth-ref", "--local-ref"), metavar="SECRET")
PROVIDER = Flag("provider", ("--provider",), metavar="azure|generic")
BUCKET_NAME = Flag("bucket_name", ("--bucket-name",), metavar="BUCKET")
ACCESS_KEY = Flag("access_key", ("--access-key", "--access-key-id"), metavar="ACCESS_KEY_ID")
SECRET_KEY_REF = Flag("secret_key_ref", ("--secret-key-ref",), metavar="REF")
BUCKET_INSECURE = Flag("bucket_insecure", ("--bucket-insecure",), Arity.OPTIONAL_BOOL)
CONTAINER_NAME = Flag("container_name", ("--container-name",), metavar="CONTAINER")
ACCOUNT_KEY_REF = Flag("account_key_ref", ("--account-key-ref",), metavar="REF")
SAS_TOKEN_REF = Flag("sas_token_ref", ("--sas-token-ref",), metavar="REF")
MI_CLIENT_ID = Flag("mi_client_id", ("--managed-identity-client-id", "--mi-client-id"), metavar="GUID")
#: git over HTTPS: a reference to the CA certificate fluxops holds (az's --https-ca-cert takes the certificate)
HTTPS_CA_CERT = Flag("https_ca_cert_ref", ("--https-ca-cert", "--https-ca-cert-ref"), metavar="REF")
#: Azure Blob with a service principal (az's names; the secret and certificate are references)
SP_CLIENT_ID = Flag("sp_client_id", ("--sp-client-id",), metavar="GUID")
SP_TENANT_ID = Flag("sp_tenant_id", ("--tenant-id", "--sp-tenant-id"), metavar="GUID")
SP_CLIENT_SECRET_REF = Flag("sp_client_secret_ref", ("--sp-client-secret-ref",), metavar="REF")
SP_CLIENT_CERT_REF = Flag("sp_client_cert_ref", ("--sp-client-cert-ref",), metavar="REF")
SP_CLIENT_CERT_PASSWORD_REF = Flag("sp_client_cert_password_ref", ("--sp-client-cert-password-ref",), metavar="REF")
SP_CLIENT_CERT_SEND_CHAIN = Flag("sp_client_cert_send_chain", ("--sp-client-cert-send-chain",), Arity.OPTIONAL_BOOL)
#: OCI: plain HTTP to the registry, and TLS material by reference
INSECURE = Flag("insecure", ("--insecure",), Arity.OPTIONAL_BOOL)
TLS_CLIENT_CERT_REF = Flag("tls_client_cert_ref", ("--tls-client-cert-ref",), metavar="REF")
TLS_PRIVATE_KEY_REF = Flag("tls_private_key_ref", ("--tls-private-key-ref",), metavar="REF")
TLS_CA_CERT_REF = Flag("tls_ca_cert_ref", ("--tls-ca-cert-ref",), metavar="REF")

SOURCE_FLAGS: tuple[Flag, ...] = (
    URL,
    BRANCH,
    TAG,
    SEMVER,
    COMMIT,
    DIGEST,
    KIND,
    INTERVAL,
    TIMEOUT,
    DEPLOY_KEY,
    HTTPS_USER,
    HTTPS_KEY_REF,
    SSH_KEY_REF,
    KNOWN_HOSTS_REF,
    LOCAL_AUTH_REF,
    PROVIDER,
    BUCKET_NAME,
    ACCESS_KEY,
    SECRET_KEY_REF,
    BUCKET_INSECURE,
    CONTAINER_NAME,
    ACCOUNT_KEY_REF,
    SAS_TOKEN_REF,
    MI_CLIENT_ID,
    HTTPS_CA_CERT,
    SP_CLIENT_ID,
    SP_TENANT_ID,
    SP_CLIENT_SECRET_REF,
    SP_CLIENT_CERT_REF,
    SP_CLIENT_CERT_PASSWORD_REF,
    SP_CLIENT_CERT_SEND_CHAIN,
    INSECURE,
    TLS_CLIENT_CERT_REF,
    TLS_PRIVATE_KEY_REF,
    TLS_CA_CERT_REF,
)

"""Fetching a Bucket source (S3-compatible) with boto3, as source-controller's generic (minio) provider does:
confirm the bucket exists, list it, download every object; errors worded as source-controller words them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sandbox.fluxsim.fetched_tree import index_artifact
from sandbox.fluxsim.sources import local_secret, protected_text
from sandbox.fluxsim.state import Artifact, mapping
from sandbox.world import Cluster, FluxConfigRecord

#: protected setting az puts the bucket's secret key in (base64)
SECRET_KEY_SETTING = "bucketSecretKey"


@dataclass(frozen=True)
class BucketCredentials:
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    error: str | None = None


def bucket_credentials(cluster: Cluster, record: FluxConfigRecord) -> BucketCredentials:
    """A localAuthRef Secret's ``accesskey`` / ``secretkey``, else ``bucket.accessKey`` and the protected
    ``bucketSecretKey``; none: anonymous."""
    bucket = mapping(record.properties.get("bucket"))
    secret_name = bucket.get("localAuthRef")
    if secret_name:
        secret = local_secret(cluster, record, str(secret_name))
        if isinstance(secret, str):
            return BucketCredentials(error=secret)
        if not secret.get("accesskey") or not secret.get("secretkey"):
            return BucketCredentials(
                error=f"invalid '{secret_name}' secret data: required fields 'accesskey' and 'secretkey'"
            )
        return BucketCredentials(secret["accesskey"], secret["secretkey"])
    return BucketCredentials(str(bucket.get("accessKey") or "") or None, protected_text(record, SECRET_KEY_SETTING))


def _message(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Message") or error.get("Code") or exc)
    return str(exc)


def fetch_bucket(
    *, url: str, bucket: str, creds: BucketCredentials, ca_file: Path | None, timeout: float
) -> Artifact | str:
    """The bucket's objects as an artifact, or source-controller's error message (blocking: run in a thread)."""
    if creds.error:
        return creds.error
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"invalid endpoint '{url}': the URL must be http:// or https:// and name a host"
    client: Any = boto3.client(
        "s3",
        endpoint_url=f"{parts.scheme}://{parts.netloc}",
        region_name="us-east-1",
        aws_access_key_id=creds.access_key or "",
        aws_secret_access_key=creds.secret_key or "",
        verify=str(ca_file) if ca_file and parts.scheme == "https" else parts.scheme == "https",
        config=Config(
            retries={"max_attempts": 1},
            connect_timeout=timeout,
            read_timeout=timeout,
            s3={"addressing_style": "path"},
            signature_version="s3v4" if creds.access_key else UNSIGNED,
        ),
    )
    try:
        client.get_bucket_location(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return f"bucket '{bucket}' not found"
        return f"failed to confirm existence of '{bucket}' bucket: {_message(exc)}"
    except BotoCoreError as exc:
        return f"failed to confirm existence of '{bucket}' bucket: {exc}"
    files: dict[str, bytes] = {}
    etags: dict[str, str] = {}
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                key = str(item["Key"])
                if key.endswith("/"):
                    continue
                etags[key] = str(item.get("ETag", "")).strip('"')
                files[key] = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        return f"listing objects from bucket '{bucket}' failed: {_message(exc)}"
    return index_artifact(f"bucket/{parts.netloc}/{bucket}", files, etags)

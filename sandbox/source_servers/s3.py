"""The sandbox's S3-compatible server: moto in server mode, its own process, HTTPS with the sandbox CA.

Seeded with one bucket of the tutorial's manifests, readable by one IAM user whose access key the sandbox
hands out; once seeded, moto checks every request's signature (an unknown access key or a wrong secret is
refused as S3 refuses it).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.exceptions import ClientError

from sandbox.redis_server import free_port
from sandbox.source_servers.process import ChildServer
from sandbox.tls import ServerTls

REGION = "us-east-1"
BUCKET = "fluxops-demo"
_USER = "flux-source-reader"
_READ_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"], "Resource": "*"}
    ],
}


class S3AuthError(RuntimeError):
    """The S3 server does not check request signatures as S3 does (the message says what it did)."""


@dataclass(frozen=True)
class S3Access:
    """Where the bucket is and the access key that reads it."""

    url: str  # the endpoint, https://127.0.0.1:PORT
    bucket: str
    access_key_id: str
    secret_access_key: str = field(repr=False)


class S3Server:
    def __init__(self, *, tls: ServerTls, logs: Path) -> None:
        self.tls = tls
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        command = [
            sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port),
            "-c", str(tls.cert_file), "-k", str(tls.key_file),
        ]  # fmt: skip
        self.child = ChildServer("the S3 server (moto)", command, port=self.port, log=logs / "s3.log", env=_env())
        #: moto's switch: posted the number of requests it still takes unsigned, from then on it checks signatures
        self.auth_switch = f"{self.url}/moto-api/reset-auth"
        self.unsigned_requests = 0  # tests raise it to see a server that does not check caught by :meth:`seed`
        self.access: S3Access | None = None

    async def start(self) -> None:
        await self.child.start()

    def seed(self, files: Mapping[str, str | bytes], bucket: str = BUCKET) -> S3Access:
        """Create the reader, its key and the bucket with ``files``; then turn signature checks on (blocking I/O)."""
        # Before auth is on, moto takes any key: these calls set the world up.
        admin = self._client("iam", "sandbox-admin", secrets.token_hex(8))
        admin.create_user(UserName=_USER)
        admin.put_user_policy(UserName=_USER, PolicyName="read-sources", PolicyDocument=json.dumps(_READ_POLICY))
        key = admin.create_access_key(UserName=_USER)["AccessKey"]
        s3 = self._client("s3", "sandbox-admin", secrets.token_hex(8))
        s3.create_bucket(Bucket=bucket)
        for path, body in sorted(files.items()):
            s3.put_object(Bucket=bucket, Key=path, Body=body.encode() if isinstance(body, str) else body)
        self._check_signatures(bucket, key["AccessKeyId"])
        self.access = S3Access(self.url, bucket, key["AccessKeyId"], key["SecretAccessKey"])
        return self.access

    def _check_signatures(self, bucket: str, key_id: str) -> None:
        """Turn moto's signature checks on, and see one request signed with a wrong secret refused: a server
        that took any key would let a test of a wrong secret pass for the wrong reason."""
        switched = requests.post(
            self.auth_switch, data=str(self.unsigned_requests), verify=str(self.tls.ca_file), timeout=10
        )
        if not switched.ok:
            raise S3AuthError(
                f"turning signature checks on (POST {self.auth_switch}) answered {switched.status_code}: "
                "Bucket sources would not be checked"
            )
        try:
            self._client("s3", key_id, "not-the-secret").list_objects_v2(Bucket=bucket, MaxKeys=1)
        except ClientError as refused:
            status = refused.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 403:
                return
            raise S3AuthError(f"a request signed with a wrong secret answered {status}, not 403") from refused
        raise S3AuthError(
            "it accepted a request signed with a wrong secret after signature checks were turned on: "
            "Bucket sources would not be checked"
        )

    def _client(self, service: str, key_id: str, secret: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            verify=str(self.tls.ca_file),
        )

    def stop(self) -> None:
        self.child.stop()


def _env() -> dict[str, str]:
    # moto's own settings only: no AWS credentials of the person running the sandbox leak in
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}

"""Which request bodies the store's client leaves out of its SigV4 signature: those a signed SHA-256 checksum
header already describes.

Over plain HTTP (the embedded store, a store inside the data centre) botocore hashes every body into the signature,
and the store hashes it again to check: with the `x-amz-checksum-sha256` that `ObjectStore.put` sends (and the store
verifies) that is the same body hashed twice more on each side, a third of the store's CPU for an ingested call. The
checksum header is itself signed, so a body changed on the way is still refused. Bodies without one (a multipart
completion's part list, a batch delete) stay signed; over HTTPS botocore already leaves checksummed streams unsigned.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSRequest
from botocore.config import Config

CHECKSUM_HEADER = "x-amz-checksum-sha256"


def sign_bodies_without_checksums(client: Any) -> None:
    """Register, on a boto3 S3 client, the rule above."""
    config: Config = client.meta.config
    options: dict[str, Any] = {"s3": {**(getattr(config, "s3", None) or {}), "payload_signing_enabled": False}}
    unsigned = config.merge(Config(**options))

    def leave_checksummed_body_unsigned(request: AWSRequest, **_kwargs: object) -> None:
        if CHECKSUM_HEADER in request.headers:
            # botocore's S3 signer reads the choice from the config in the request's context, for this request alone.
            request.context["client_config"] = unsigned

    client.meta.events.register("before-sign.s3", leave_checksummed_body_unsigned)

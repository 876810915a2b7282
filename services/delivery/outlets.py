"""What a delivery worker sends through, built once from settings: SMTP, WhatsApp, webhooks, S3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from services.common.s3 import create_s3_client
from services.common.settings import Settings
from services.delivery.email import SmtpSender
from services.delivery.errors import PermanentDeliveryError, TemporaryDeliveryError
from services.delivery.webhook_sender import WebhookSender
from services.delivery.whatsapp import WhatsAppClient

DEFAULT_SENDER = "SuoOps <no-reply@suoops.invalid>"


@dataclass
class Outlets:
    """The clients of the outside world; a channel left unconfigured is None."""

    s3: Any
    bucket: str
    smtp: SmtpSender | None
    whatsapp: WhatsAppClient | None
    webhooks: WebhookSender

    def read_pdf(self, key: str) -> bytes:
        """The stored PDF's bytes; a missing object is permanent, anything else temporary."""
        if not key:
            raise PermanentDeliveryError("the invoice has no stored PDF")
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
            return bytes(response["Body"].read())
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404"):
                raise PermanentDeliveryError(f"the stored PDF {key} is missing") from None
            raise TemporaryDeliveryError(f"could not read the PDF from storage: {code}") from None
        except BotoCoreError as exc:
            reason = type(exc).__name__
            raise TemporaryDeliveryError(f"could not read the PDF from storage: {reason}") from None


def build_outlets(settings: Settings) -> Outlets:
    """The clients for every configured channel (nothing connects until a job needs it)."""
    smtp = None
    if settings.smtp_url:
        smtp = SmtpSender(settings.smtp_url, settings.smtp_from or DEFAULT_SENDER)
    whatsapp = None
    if settings.whatsapp_api_url and settings.whatsapp_phone_number_id and settings.whatsapp_token:
        whatsapp = WhatsAppClient(
            settings.whatsapp_api_url, settings.whatsapp_phone_number_id, settings.whatsapp_token
        )
    return Outlets(
        s3=create_s3_client(settings),
        bucket=settings.s3_bucket,
        smtp=smtp,
        whatsapp=whatsapp,
        webhooks=WebhookSender(allow_private=settings.webhook_allow_private),
    )

"""WhatsApp's settings, under the names Meta's documentation uses (WHATSAPP_*)."""

from pydantic_settings import BaseSettings, SettingsConfigDict

# Our languages as the template language codes registered with Meta.
TEMPLATE_LANGUAGES = "en=en,fr=fr,es=es,zh=zh_CN,ar=ar"


class WhatsAppSettings(BaseSettings):
    """WhatsApp Cloud API: the number's token and ids, the webhook's secrets, pacing, template."""

    model_config = SettingsConfigDict(env_prefix="WHATSAPP_", env_file=".env", extra="ignore")

    token: str | None = None  # a system user's access token with whatsapp_business_messaging
    phone_number_id: str | None = None  # the sending number's id (not the number itself)
    app_secret: str | None = None  # signs every webhook POST (X-Hub-Signature-256)
    verify_token: str | None = None  # our word for Meta's GET handshake
    # The Graph API base with its version: messages go to {api_url}/{phone_number_id}/messages.
    api_url: str = "https://graph.facebook.com/v23.0"
    # Messages a second from this number (Meta's default throughput); notifications use 85%.
    notify_rate: float = 80.0
    person_interval: float = 6.0  # seconds between two notifications to one person (131056)
    template_name: str = "cluster_activation_endorsed"  # sent outside the 24-hour window
    template_languages: str = TEMPLATE_LANGUAGES  # ours=Meta's, comma-separated

    @property
    def configured(self) -> bool:
        """WhatsApp runs when every one of the four secrets and ids is set."""
        return bool(self.token and self.phone_number_id and self.app_secret and self.verify_token)

    def template_language(self, lang: str) -> str:
        """The template's language code for one of our languages (English when not listed)."""
        parts = self.template_languages.split(",")
        pairs = dict(p.strip().split("=", 1) for p in parts if "=" in p)
        return pairs.get(lang) or pairs.get("en") or "en"

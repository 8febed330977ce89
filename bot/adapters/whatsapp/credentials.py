"""Does WhatsApp accept our token for our number? One Graph read, for /readyz and the doctor.

`GET {WHATSAPP_API_URL}/{WHATSAPP_PHONE_NUMBER_ID}` with the token: the number's display name
when Meta accepts it; Meta's own verdict (`190: Invalid OAuth access token`) or the kind of
failure when not, never the URL or the token.
"""

import httpx

from bot.platform import failure

TIMEOUT = 10.0


async def phone_number(
    token: str, phone_number_id: str, api_url: str, timeout: float = TIMEOUT
) -> tuple[bool, str]:
    """(ok, what Meta said): the sending number, read with the token."""
    url = f"{api_url.rstrip('/')}/{phone_number_id}"
    params = {"fields": "display_phone_number,verified_name"}
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            headers = {"Authorization": f"Bearer {token}"}
            response = await client.get(url, params=params, headers=headers)
        body = response.json() if response.content else {}
    except Exception as exc:
        return False, failure(exc)
    if not isinstance(body, dict):
        return False, f"HTTP {response.status_code}"
    error = body.get("error")
    if response.status_code == 200 and not error:
        name = body.get("verified_name") or "?"
        return True, f"number {body.get('display_phone_number', '?')} ({name})"
    error = error if isinstance(error, dict) else {}
    said = f"{error.get('code', response.status_code)}: {error.get('message') or 'refused'}"
    return False, f"number refused: {said[:200]}"

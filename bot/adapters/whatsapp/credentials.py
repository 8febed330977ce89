"""Does WhatsApp accept our token for our number? One Graph read, for /readyz and the doctor.

`GET {WHATSAPP_API_URL}/{WHATSAPP_PHONE_NUMBER_ID}` with the token: the number's display name
when Meta accepts it; Meta's own verdict (`190: Invalid OAuth access token`) or the kind of
failure when not, never the URL or the token.
"""

import httpx

from bot.platform import read_answer

TIMEOUT = 10.0


async def phone_number(
    token: str, phone_number_id: str, api_url: str, timeout: float = TIMEOUT
) -> tuple[bool, str]:
    """(ok, what Meta said): the sending number, read with the token."""
    url = f"{api_url.rstrip('/')}/{phone_number_id}"
    params = {"fields": "display_phone_number,verified_name"}

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(timeout=timeout) as client:
            headers = {"Authorization": f"Bearer {token}"}
            return await client.get(url, params=params, headers=headers)

    answer = await read_answer(call)
    if isinstance(answer, str):
        return False, answer
    status, body = answer
    error = body.get("error")
    if status == 200 and not error:
        name = body.get("verified_name") or "?"
        return True, f"number {body.get('display_phone_number', '?')} ({name})"
    error = error if isinstance(error, dict) else {}
    said = f"{error.get('code', status)}: {error.get('message') or 'refused'}"
    return False, f"number refused: {said[:200]}"

"""Does Telegram accept our bot token? getMe, for /readyz and `clusterbot doctor`.

The answer names Telegram's own verdict (`Unauthorized`) or the kind of failure, never the URL
(it carries the token).
"""

import httpx

from bot.platform import failure

TIMEOUT = 10.0


async def get_me(token: str, api_url: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """(ok, what Telegram said): getMe with the bot token."""
    url = f"{api_url.rstrip('/')}/bot{token}/getMe"
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url)
        body = response.json() if response.content else {}
    except Exception as exc:
        return False, failure(exc)
    if not isinstance(body, dict):
        return False, f"HTTP {response.status_code}"
    if response.status_code == 200 and body.get("ok"):
        result = body.get("result") or {}
        return True, f"getMe: @{result.get('username', '?')}"
    description = str(body.get("description") or f"HTTP {response.status_code}")
    return False, f"getMe refused: {description[:200]}"

"""Does Telegram accept our bot token? getMe, for /readyz and `clusterbot doctor`.

The answer names Telegram's own verdict (`Unauthorized`) or the kind of failure, never the URL
(it carries the token).
"""

import httpx

from bot.platform import read_answer

TIMEOUT = 10.0


async def get_me(token: str, api_url: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """(ok, what Telegram said): getMe with the bot token."""
    url = f"{api_url.rstrip('/')}/bot{token}/getMe"

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(timeout=timeout) as client:
            return await client.post(url)

    answer = await read_answer(call)
    if isinstance(answer, str):
        return False, answer
    status, body = answer
    if status == 200 and body.get("ok"):
        result = body.get("result") or {}
        return True, f"getMe: @{result.get('username', '?')}"
    description = str(body.get("description") or f"HTTP {status}")
    return False, f"getMe refused: {description[:200]}"

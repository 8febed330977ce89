"""Does Slack accept our bot token? auth.test, for /readyz and `clusterbot doctor`.

The answer names Slack's own verdict (`invalid_auth`) or the kind of failure, never a token.
"""

import httpx

from bot.platform import read_answer

TIMEOUT = 10.0


async def auth_test(token: str, api_url: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """(ok, what Slack said): auth.test with the bot token."""
    url = f"{api_url.rstrip('/')}/auth.test"

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(timeout=timeout) as client:
            return await client.post(url, headers={"Authorization": f"Bearer {token}"})

    answer = await read_answer(call)
    if isinstance(answer, str):
        return False, answer
    status, body = answer
    if body.get("ok"):
        return True, f"auth.test: team {body.get('team_id', '?')}, bot {body.get('user_id', '?')}"
    return False, f"auth.test refused: {str(body.get('error') or status)[:200]}"

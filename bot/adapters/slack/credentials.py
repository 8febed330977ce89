"""Does Slack accept our bot token? auth.test, for /readyz and `clusterbot doctor`.

The answer names Slack's own verdict (`invalid_auth`) or the kind of failure, never a token.
"""

import httpx

from bot.platform import failure

TIMEOUT = 10.0


async def auth_test(token: str, api_url: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """(ok, what Slack said): auth.test with the bot token."""
    url = f"{api_url.rstrip('/')}/auth.test"
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, headers={"Authorization": f"Bearer {token}"})
        body = response.json() if response.content else {}
    except Exception as exc:
        return False, failure(exc)
    if not isinstance(body, dict):
        return False, f"HTTP {response.status_code}"
    if body.get("ok"):
        return True, f"auth.test: team {body.get('team_id', '?')}, bot {body.get('user_id', '?')}"
    return False, f"auth.test refused: {str(body.get('error') or response.status_code)[:200]}"

"""Does each platform accept our credentials? One cheap authenticated call each.

Used at `serve` start (its answer is part of /readyz) and by `clusterbot doctor`. The answer
names the platform's own verdict (`invalid_auth`, `Unauthorized`) or the kind of failure,
never a URL (Telegram's carries the token) or a token.
"""

import httpx

TIMEOUT = 10.0


def _failure(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    return type(exc).__name__


async def telegram(token: str, api_url: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """(ok, what Telegram said): getMe with the bot token."""
    url = f"{api_url.rstrip('/')}/bot{token}/getMe"
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url)
        body = response.json() if response.content else {}
    except Exception as exc:
        return False, _failure(exc)
    if not isinstance(body, dict):
        return False, f"HTTP {response.status_code}"
    if response.status_code == 200 and body.get("ok"):
        result = body.get("result") or {}
        return True, f"getMe: @{result.get('username', '?')}"
    description = str(body.get("description") or f"HTTP {response.status_code}")
    return False, f"getMe refused: {description[:200]}"


async def slack(token: str, api_url: str, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """(ok, what Slack said): auth.test with the bot token."""
    url = f"{api_url.rstrip('/')}/auth.test"
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, headers={"Authorization": f"Bearer {token}"})
        body = response.json() if response.content else {}
    except Exception as exc:
        return False, _failure(exc)
    if not isinstance(body, dict):
        return False, f"HTTP {response.status_code}"
    if body.get("ok"):
        return True, f"auth.test: team {body.get('team_id', '?')}, bot {body.get('user_id', '?')}"
    return False, f"auth.test refused: {str(body.get('error') or response.status_code)[:200]}"

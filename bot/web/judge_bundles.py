"""The teams' code bundles (Hackathon42's code review) on the judges' page: each judge sees, under
"Code bundles", the bundles of the teams they review, with each dataset's explanation, and
downloads the zip at GET /judge/bundle/{team_id}. The judge's session cookie (scoped to /judge)
signs them in; a judge with no review of that team gets 403 (BundleService.judge_download)."""

from __future__ import annotations

from html import escape

from aiohttp import web

from bot.core.bundles import Bundle
from bot.core.errors import HackbotError
from bot.web.api import SERVICES
from bot.web.organizers import PRIVATE_HEADERS


def render_bundles(bundles: list[Bundle]) -> str:
    """The "Code bundles" section of the judges' page (empty when the judge reviews no bundle)."""
    if not bundles:
        return ""
    parts = ["<h2>Code bundles</h2>",
             "<p>The code and explanations the teams you review handed in. Do not share them.</p>"]
    for b in bundles:
        zip_link = (f'<a href="/judge/bundle/{b.team_id}" download>Download {escape(b.filename)} of '
                    f"{escape(b.team_name)} ({b.size:,} bytes)</a>" if b.sha256 else "No zip handed in.")
        explained = "".join(
            f"<details><summary>Explanation for dataset {escape(k)}</summary><p>{escape(v)}</p></details>"
            for k, v in sorted(b.explanations.items(), key=lambda kv: (len(kv[0]), kv[0])))
        parts.append(f'<h3>{escape(b.team_name)}</h3><p class="bundle">{zip_link}</p>{explained}')
    return "\n".join(parts)


async def bundle_download(request: web.Request) -> web.Response:
    from bot.web.judges import COOKIE  # the judges' page imports this module

    services = request.app[SERVICES]
    judge = await services.judging.judge_of_session(request.cookies.get(COOKIE))
    if judge is None:
        return web.Response(text="Open the link the organizers sent you first; it signs this browser in.",
                            status=403, headers=PRIVATE_HEADERS)
    try:
        bundle, data = await services.bundles.judge_download(judge.user_id, int(request.match_info["team_id"]))
    except ValueError:
        return web.Response(text="No such team.", status=404, headers=PRIVATE_HEADERS)
    except HackbotError as exc:
        return web.Response(text=exc.message, status=exc.status, headers=PRIVATE_HEADERS)
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{bundle.team_name}-{bundle.filename}")
    return web.Response(body=data, content_type="application/zip", headers={
        **PRIVATE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"})

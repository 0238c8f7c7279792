"""Projects: what teams hand in for the judged prizes (issue 11).

This module starts with what judging and voting read: the pool of eligible projects. A project
is in the pool when it is submitted (not a draft, not withdrawn) and the organizers marked it
eligible; the values stored on `projects` are its counting version (edits stop at the deadline,
so the last version written before it is the one on the row).
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.config import EventConfig, ProjectsSection
from bot.core.clock import Clock, fmt_utc
from bot.core.errors import AlreadyDone, BadInput, HackbotError, NotAllowed, NotFound
from bot.core.outbox import Outbox, enqueue
from bot.core.repo_checks import RepoCheck, RepoChecker, RepoUnavailable
from bot.core.store import IntegrityError, Store, Tx
from bot.core.teams import Team, team_lane
from bot.core.urls import normalize_demo_url, normalize_repo_url

POOL_COLUMNS = ("p.id, p.team_id, t.name, p.title, p.summary, p.category, p.opt_ins, p.repo_url, p.demo_url, "
                "p.deadline_commit, p.commits_after_deadline, p.extension_reason, p.version")


@dataclass(frozen=True)
class EligibleProject:
    id: int
    team_id: int
    team_name: str
    title: str
    summary: str
    category: str | None
    opt_ins: tuple[str, ...]  # the [[prizes]] ids the team opted into
    repo_url: str | None
    demo_url: str | None
    deadline_commit: str | None  # the repository's commit at the deadline, what judges see
    commits_after_deadline: int | None
    extension_reason: str  # why an organizer extended this team's deadline ("" when not)
    version: int


def _eligible(row: tuple[Any, ...]) -> EligibleProject:
    return EligibleProject(
        id=row[0], team_id=row[1], team_name=row[2], title=row[3], summary=row[4], category=row[5],
        opt_ins=tuple(json.loads(row[6])), repo_url=row[7], demo_url=row[8], deadline_commit=row[9],
        commits_after_deadline=row[10], extension_reason=row[11], version=row[12],
    )


async def eligible_projects(tx: Tx, *, category: str | None = None, opt_in: str | None = None) -> list[EligibleProject]:
    """The projects that enter judging and voting, by id; only one category's, or only those
    opted into one prize, when asked."""
    sql = (f"SELECT {POOL_COLUMNS} FROM projects p JOIN teams t ON t.id = p.team_id "
           "WHERE p.status = 'submitted' AND p.moderation = 'eligible'")
    params: list[Any] = []
    if category is not None:
        sql += " AND p.category = ?"
        params.append(category)
    sql += " ORDER BY p.id"
    pool = [_eligible(row) for row in await tx.fetchall(sql, params)]
    if opt_in is not None:
        pool = [p for p in pool if opt_in in p.opt_ins]
    return pool


# --- the service: submitting, editing, the lock, moderation -----------------------------------

PROJECT_COLUMNS = ("p.id, p.team_id, t.name, p.version, p.status, p.title, p.summary, p.repo_url, p.demo_url, "
                   "p.category, p.opt_ins, p.answers, p.checks, p.verified, p.checked_at, p.moderation, "
                   "p.moderation_reason, p.moderated_by, p.deadline, p.extension_reason, p.deadline_commit, "
                   "p.commits_after_deadline, p.created_by, p.updated_by, p.updated_at, p.submitted_at")
TITLE_MAX, SUMMARY_MAX, REASON_MAX = 100, 4000, 1000
Verdict = Literal["eligible", "maybe", "ineligible"]
VERDICTS: tuple[Verdict, ...] = ("eligible", "maybe", "ineligible")


@dataclass(frozen=True)
class ProjectInput:
    """What a team types: every field as it was typed (None: not given)."""

    title: str
    summary: str = ""
    repo: str | None = None
    demo: str | None = None
    category: str | None = None
    opt_ins: tuple[str, ...] = ()
    answers: tuple[tuple[str, str], ...] = ()  # (question id, answer)


@dataclass(frozen=True)
class CheckNote:
    """One line of a repository check as stored: a warning for the team, a flag for organizers,
    or why the repository could not be checked ("unverified")."""

    kind: Literal["warning", "flag", "unverified"]
    code: str
    message: str


@dataclass(frozen=True)
class Project:
    id: int
    team_id: int
    team_name: str
    version: int
    status: str  # draft | submitted | withdrawn
    title: str
    summary: str
    repo_url: str | None
    demo_url: str | None
    category: str | None
    opt_ins: tuple[str, ...]
    answers: dict[str, str]
    checks: tuple[CheckNote, ...]
    verified: bool | None  # None: not checked yet (GitHub could not be asked, or no repository)
    checked_at: datetime | None
    moderation: str
    moderation_reason: str
    moderated_by: str | None
    deadline: datetime | None  # this team's deadline (its own when extended)
    extended: bool
    extension_reason: str
    deadline_commit: str | None
    commits_after_deadline: int | None
    created_by: str
    updated_by: str
    updated_at: datetime
    submitted_at: datetime | None

    @property
    def warnings(self) -> tuple[CheckNote, ...]:
        return tuple(c for c in self.checks if c.kind != "flag")

    @property
    def flags(self) -> tuple[CheckNote, ...]:
        return tuple(c for c in self.checks if c.kind == "flag")


@dataclass(frozen=True)
class ProjectVersion:
    version: int
    status: str
    title: str
    repo_url: str | None
    demo_url: str | None
    category: str | None
    author: str
    change: str
    at: datetime


@dataclass(frozen=True)
class Saved:
    project: Project
    created: bool
    check: RepoCheck | None  # the repository check run now (None: no repository, or unchanged)


# the outbox kind that tells a team in its channel (bot/outbox_executors.py posts it)
TEAM_NOTICE = "team.notice"


@dataclass(frozen=True)
class Moderated:
    project: Project
    notice: str  # what the team is told in its channel (plain text)
    notice_key: str | None  # the outbox row that tells it; None: the verdict and reason were already so


@dataclass(frozen=True)
class DraftReminder:
    project: Project
    before: timedelta  # how long before the deadline
    deadline: datetime

    def text(self) -> str:
        hours = self.before.total_seconds() / 3600
        left = f"{hours:g} hour{'s' if hours != 1 else ''}"
        return (f"Your project {self.project.title!r} is still a draft: it is not handed in. The deadline is "
                f"{fmt_utc(self.deadline)} (in about {left}); submit it with /project submit (or edit and submit).")


class EditConflict(AlreadyDone):
    """Another member saved the project since this edit read it."""


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _project(row: tuple[Any, ...], closes: datetime | None) -> Project:
    checks = tuple(CheckNote(c["kind"], c["code"], c["message"]) for c in json.loads(row[12]))
    own = _ts(row[18])
    return Project(
        id=row[0], team_id=row[1], team_name=row[2], version=row[3], status=row[4], title=row[5], summary=row[6],
        repo_url=row[7], demo_url=row[8], category=row[9], opt_ins=tuple(json.loads(row[10])),
        answers=dict(json.loads(row[11])), checks=checks, verified=None if row[13] is None else bool(row[13]),
        checked_at=_ts(row[14]), moderation=row[15], moderation_reason=row[16], moderated_by=row[17],
        deadline=own or closes, extended=own is not None, extension_reason=row[19], deadline_commit=row[20],
        commits_after_deadline=row[21], created_by=row[22], updated_by=row[23], updated_at=_ts(row[24]),  # type: ignore[arg-type]
        submitted_at=_ts(row[25]),
    )


def notes_of(check: RepoCheck) -> list[CheckNote]:
    notes = [CheckNote("warning", f.code, f.message) for f in check.warnings]
    notes += [CheckNote("flag", f.code, f.message) for f in check.flags]
    if check.status != "verified":
        notes.append(CheckNote("unverified", check.status, check.reason))
    return notes


def _missing(section: ProjectsSection, summary: str, repo: str | None, demo: str | None, category: str | None,
             answers: dict[str, str]) -> list[str]:
    """The required fields left empty, as a team is told to add them."""
    missing = []
    if "repo" in section.required and repo is None:
        missing.append("a repository URL")
    if "demo" in section.required and demo is None:
        missing.append("a demo URL")
    if "description" in section.required and not summary:
        missing.append("a summary")
    if section.categories and category is None:
        missing.append(f"a category (one of {', '.join(section.categories)})")
    missing += [f"an answer to {q.question!r}" for q in section.questions if q.required and q.id not in answers]
    return missing


def _casefold_pick(value: str, options: list[str], what: str) -> str:
    for option in options:
        if option.casefold() == " ".join(value.split()).casefold():
            return option
    raise BadInput(f"{value!r} is not a {what} of this event; choose one of: {', '.join(options)}")


class ProjectService:
    """One project per team: drafts, submissions, edits (each a version with its author), the
    lock at the deadline, extensions, moderation, repository checks and the deadline snapshot."""

    def __init__(self, store: Store, config: EventConfig, clock: Clock, checker: RepoChecker | None = None,
                 outbox: Outbox | None = None):
        self.store, self.config, self.clock = store, config, clock
        self.outbox = outbox or Outbox(store)
        self.checker = checker  # set by the composition root (bot/app.py); None: repositories wait unverified

    # --- the event's window -----------------------------------------------------------------

    @property
    def section(self) -> ProjectsSection:
        if self.config.projects is None:
            raise NotAllowed("this event takes no projects (its event file has no [projects] section)")
        return self.config.projects

    @property
    def closes(self) -> datetime | None:
        return self.config.projects.closes if self.config.projects else None

    def gallery_public(self) -> bool:
        """The gallery is public once the event's deadline passed (before it, each team sees its own)."""
        closes = self.closes
        return closes is not None and self.clock() >= closes

    async def sync_limits(self) -> None:
        """Give the database the deadline its trigger enforces (from the event file)."""
        section = self.config.projects
        opens = section.opens.timestamp() if section and section.opens else None
        closes = section.closes.timestamp() if section and section.closes else None
        await self.store.execute(
            "INSERT INTO project_limits(id, opens, closes) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET opens = excluded.opens, closes = excluded.closes", (opens, closes))

    # --- reading ------------------------------------------------------------------------------

    async def of_team(self, team_id: int) -> Project | None:
        row = await self.store.fetchone(
            f"SELECT {PROJECT_COLUMNS} FROM projects p JOIN teams t ON t.id = p.team_id WHERE p.team_id = ?", (team_id,))
        return _project(row, self.closes) if row else None

    async def by_id(self, project_id: int) -> Project:
        row = await self.store.fetchone(
            f"SELECT {PROJECT_COLUMNS} FROM projects p JOIN teams t ON t.id = p.team_id WHERE p.id = ?", (project_id,))
        if row is None:
            raise NotFound(f"no project #{project_id}")
        return _project(row, self.closes)

    async def of_team_named(self, name: str) -> Project:
        row = await self.store.fetchone(
            f"SELECT {PROJECT_COLUMNS} FROM projects p JOIN teams t ON t.id = p.team_id"
            " WHERE t.name_key = ? OR t.username = ?", (" ".join(name.split()).casefold(), name))
        if row is None:
            raise NotFound(f"team {name!r} has no project (or no such team); `hackbot projects export` lists them")
        return _project(row, self.closes)

    async def all(self, *, status: str | None = None) -> list[Project]:
        sql = f"SELECT {PROJECT_COLUMNS} FROM projects p JOIN teams t ON t.id = p.team_id"
        params: list[Any] = []
        if status is not None:
            sql += " WHERE p.status = ?"
            params.append(status)
        rows = await self.store.fetchall(sql + " ORDER BY p.id", params)
        return [_project(r, self.closes) for r in rows]

    async def history(self, project_id: int) -> list[ProjectVersion]:
        rows = await self.store.fetchall(
            "SELECT version, status, title, repo_url, demo_url, category, author, change, at FROM project_versions"
            " WHERE project_id = ? ORDER BY version", (project_id,))
        return [ProjectVersion(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], _ts(r[8])) for r in rows]  # type: ignore[arg-type]

    async def queue(self) -> list[Project]:
        """Submitted projects awaiting a verdict (pending first, then maybe), for the organizers."""
        projects = await self.all(status="submitted")
        order = {"pending": 0, "maybe": 1, "ineligible": 2, "eligible": 3}
        return sorted(projects, key=lambda p: (order[p.moderation], p.id))

    async def gallery(self, category: str | None = None) -> list[Project]:
        """The public gallery: submitted projects not ruled ineligible, once the deadline passed."""
        if not self.gallery_public():
            return []
        return [p for p in await self.all(status="submitted")
                if p.moderation != "ineligible" and (category is None or (p.category or "").casefold() == category.casefold())]

    # --- writing --------------------------------------------------------------------------------

    def _clean(self, data: ProjectInput, *, submitting: bool) -> dict[str, Any]:
        """The fields as stored, or BadInput saying what to fix."""
        section = self.section
        title = " ".join(data.title.split())
        if not 1 <= len(title) <= TITLE_MAX:
            raise BadInput(f"a title has 1 to {TITLE_MAX} characters (yours has {len(title)})")
        summary = data.summary.strip()
        if len(summary) > SUMMARY_MAX:
            raise BadInput(f"a summary has at most {SUMMARY_MAX} characters (yours has {len(summary)}); shorten it")
        repo = normalize_repo_url(data.repo, section.repo_hosts).url if data.repo and data.repo.strip() else None
        demo = normalize_demo_url(data.demo, section.demo_hosts) if data.demo and data.demo.strip() else None
        category = None
        if data.category and data.category.strip():
            if not section.categories:
                raise BadInput("this event has no categories; leave the category out")
            category = _casefold_pick(data.category, section.categories, "category")
        opt_ins: list[str] = []
        for prize in data.opt_ins:
            if not section.opt_in_prizes:
                raise BadInput("this event has no prizes to opt into; leave the opt-ins out")
            picked = _casefold_pick(prize, list(section.opt_in_prizes), "prize to opt into")
            if picked not in opt_ins:
                opt_ins.append(picked)
        questions = {q.id: q for q in section.questions}
        answers: dict[str, str] = {}
        for key, answer in data.answers:
            if key not in questions:
                known = ", ".join(questions) or "none"
                raise BadInput(f"{key!r} is not a question of this event (questions: {known})")
            text = answer.strip()
            if len(text) > questions[key].max_chars:
                raise BadInput(f"the answer to {questions[key].question!r} has at most {questions[key].max_chars} characters")
            if text:
                answers[key] = text
        if submitting:
            missing = _missing(section, summary, repo, demo, category, answers)
            if missing:
                raise BadInput(f"to submit, add {', '.join(missing)}; or save it as a draft and finish it later")
        return {"title": title, "summary": summary, "repo_url": repo, "demo_url": demo, "category": category,
                "opt_ins": json.dumps(opt_ins), "answers": json.dumps(answers, sort_keys=True)}

    def missing_fields(self, project: Project) -> list[str]:
        """What the event requires that the project lacks (an event file changed after it was
        handed in, or an organizer's check): empty when complete."""
        return _missing(self.section, project.summary, project.repo_url, project.demo_url, project.category,
                        project.answers)

    def _check_open(self, now: datetime) -> None:
        opens = self.section.opens
        if opens is not None and now < opens:
            raise NotAllowed(f"projects open at {fmt_utc(opens)}; come back then")

    async def save(self, team_id: int, author: str, data: ProjectInput, *, submit: bool | None,
                   expected_version: int | None) -> Saved:
        """Create or change the team's project. `submit`: True hands it in, False keeps it a draft,
        None keeps its status (an edit). `expected_version`: the version the member read (None for
        a new project); a project changed since is refused with EditConflict."""
        now = self.clock()
        self._check_open(now)
        existing = await self.of_team(team_id)
        submitting = submit is True or (submit is None and existing is not None and existing.status == "submitted")
        fields = self._clean(data, submitting=submitting)
        closes = self.closes

        async def write(tx: Tx) -> tuple[int, bool, str | None]:
            async with tx.transaction():
                row = await tx.fetchone(
                    "SELECT id, version, status, deadline, updated_by, repo_url FROM projects WHERE team_id = ?", (team_id,))
                deadline = _ts(row[3]) if row and row[3] is not None else closes
                if deadline is not None and now >= deadline:
                    raise NotAllowed(f"projects closed at {fmt_utc(deadline)}; the last version before it counts")
                if row is None:
                    if expected_version is not None:
                        raise NotFound("your team has no project to edit; start one with /project submit")
                    status = "submitted" if submit else "draft"
                    project_id = await tx.fetchval(
                        "INSERT INTO projects(team_id, status, title, summary, repo_url, demo_url, category, opt_ins,"
                        " answers, created_by, created_at, updated_by, updated_at, submitted_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        (team_id, status, fields["title"], fields["summary"], fields["repo_url"], fields["demo_url"],
                         fields["category"], fields["opt_ins"], fields["answers"], author, now.timestamp(), author,
                         now.timestamp(), now.timestamp() if submit else None))
                    await _version(tx, project_id, 1, status, fields, author, "created" if not submit else "submitted", now)
                    return project_id, True, None
                project_id, version, old_status, _, updated_by, old_repo = row
                if expected_version is None:
                    raise EditConflict(f"your team already has a project (version {version}, last saved by {updated_by});"
                                       " edit it with /project edit")
                if expected_version != version:
                    raise EditConflict(f"the project changed while you edited it: {updated_by} saved version {version} "
                                       f"(you edited version {expected_version}); nothing of yours was saved. Open it "
                                       "again with /project edit and redo your change")
                status = "submitted" if submit else ("draft" if submit is False else old_status)
                if old_status == "withdrawn" and submit is None:
                    status = "withdrawn"
                changed = await tx.execute(
                    "UPDATE projects SET version = version + 1, status = ?, title = ?, summary = ?, repo_url = ?,"
                    " demo_url = ?, category = ?, opt_ins = ?, answers = ?, updated_by = ?, updated_at = ?,"
                    " submitted_at = CASE WHEN ? = 'submitted' THEN COALESCE(submitted_at, ?) ELSE submitted_at END"
                    " WHERE id = ? AND version = ?",
                    (status, fields["title"], fields["summary"], fields["repo_url"], fields["demo_url"], fields["category"],
                     fields["opt_ins"], fields["answers"], author, now.timestamp(), status, now.timestamp(),
                     project_id, version))
                if changed != 1:  # another process won between the read and this update
                    raise EditConflict("the project changed while you edited it; open it again with /project edit")
                change = "submitted" if status == "submitted" and old_status != "submitted" else (
                    "saved as draft" if status == "draft" and old_status != "draft" else "edited")
                await _version(tx, project_id, version + 1, status, fields, author, change, now)
                return project_id, False, old_repo

        try:
            project_id, created, old_repo = await self.store.run(write)
        except IntegrityError as exc:
            raise self._refusal(exc) from None
        check = None
        if fields["repo_url"] is not None and (created or fields["repo_url"] != old_repo or existing is None
                                               or existing.verified is None):
            check = await self.check_repository(project_id)
        elif fields["repo_url"] is None and old_repo is not None:
            await self.store.execute("UPDATE projects SET checks = '[]', verified = NULL, recheck_at = NULL WHERE id = ?",
                                     (project_id,))
        return Saved(await self.by_id(project_id), created, check)

    def _refusal(self, exc: IntegrityError) -> HackbotError:
        if "project closed" in exc.message:
            closes = self.closes
            return NotAllowed(f"projects closed at {fmt_utc(closes)}; the last version before it counts" if closes
                              else "projects are closed for your team; the last version before the deadline counts")
        if exc.kind == "unique":
            return EditConflict("another member created your team's project at the same moment; open it with /project edit")
        raise exc

    async def withdraw(self, team_id: int, author: str, expected_version: int) -> Project:
        project = await self.of_team(team_id)
        if project is None:
            raise NotFound("your team has no project to withdraw")
        if project.status == "withdrawn":
            raise AlreadyDone("your team's project is withdrawn already; /project submit hands it in again")
        data = ProjectInput(project.title, project.summary, project.repo_url, project.demo_url, project.category,
                            project.opt_ins, tuple(project.answers.items()))
        now = self.clock()
        fields = self._clean(data, submitting=False)

        async def write(tx: Tx) -> None:
            async with tx.transaction():
                deadline = project.deadline
                if deadline is not None and now >= deadline:
                    raise NotAllowed(f"projects closed at {fmt_utc(deadline)}; a project cannot be withdrawn after it, "
                                     "ask the organizers")
                changed = await tx.execute(
                    "UPDATE projects SET version = version + 1, status = 'withdrawn', updated_by = ?, updated_at = ?"
                    " WHERE id = ? AND version = ?", (author, now.timestamp(), project.id, expected_version))
                if changed != 1:
                    raise EditConflict("the project changed since you read it; look at it again with /project show")
                await _version(tx, project.id, expected_version + 1, "withdrawn", fields, author, "withdrawn", now)

        try:
            await self.store.run(write)
        except IntegrityError as exc:
            raise self._refusal(exc) from None
        return await self.by_id(project.id)

    async def moderate(self, team: str, verdict: str, reason: str, by: str) -> Moderated:
        """An organizer's verdict: eligible, maybe or ineligible (with the reason the team is told).

        The one rule behind /admin moderate, `hackbot projects moderate` and the organizers' page:
        the verdict and the notice to the team's channel (an outbox row, posted by the bot's
        process whichever process ruled) commit together. The same verdict and reason again
        change nothing and tell the team nothing new (a double click, a resent form)."""
        if verdict not in VERDICTS:
            raise BadInput(f"{verdict!r} is not a verdict; use one of {', '.join(VERDICTS)}")
        reason = reason.strip()
        if verdict == "ineligible" and not reason:
            raise BadInput("say why the project is ineligible: the team is told the reason")
        if len(reason) > REASON_MAX:
            raise BadInput(f"a reason has at most {REASON_MAX} characters")
        project = await self.of_team_named(team)
        words = {"eligible": "is eligible: it enters judging and the votes",
                 "maybe": "needs a closer look by the organizers before it enters judging",
                 "ineligible": "is not eligible: it does not enter judging nor the votes"}
        notice = f"Your project {project.title!r} {words[verdict]}."
        if reason:
            notice += f" Reason: {reason}"

        async def hop(tx: Tx) -> str | None:
            async with tx.transaction():
                changed = await tx.execute(
                    "UPDATE projects SET moderation = ?, moderation_reason = ?, moderated_by = ?, moderated_at = ?"
                    " WHERE id = ? AND status = 'submitted' AND NOT (moderation = ? AND moderation_reason = ?)",
                    (verdict, reason, by, self.clock().timestamp(), project.id, verdict, reason))
                if changed != 1:
                    status = await tx.fetchval("SELECT status FROM projects WHERE id = ?", (project.id,))
                    if status != "submitted":
                        raise NotAllowed(f"team {project.team_name}'s project is {status}, not submitted; only "
                                         "submitted projects are moderated")
                    return None  # already this verdict with this reason
                key = f"{TEAM_NOTICE}:{project.team_id}:{secrets.token_hex(8)}"
                await enqueue(tx, TEAM_NOTICE, key, {"team_id": project.team_id, "content": notice},
                              lane=team_lane(project.team_id))
                return key

        key = await self.store.run(hop)
        if key is not None:
            self.outbox.wake()
        return Moderated(await self.by_id(project.id), notice, key)

    async def extend(self, team: str, until: datetime, reason: str, by: str) -> Project:
        """Give one team its own deadline (judges see the reason)."""
        reason = reason.strip()
        if not reason:
            raise BadInput("say why the deadline is extended: judges see the reason")
        if until.tzinfo is None:
            raise BadInput("give the new deadline with its zone, e.g. 2024-11-25T18:00:00Z")
        closes = self.closes
        if closes is not None and until <= closes:
            raise BadInput(f"the new deadline {fmt_utc(until)} is not after the event's ({fmt_utc(closes)})")
        project = await self.of_team_named(team)
        await self.store.execute(
            "UPDATE projects SET deadline = ?, extension_reason = ? WHERE id = ?",
            (until.timestamp(), f"{reason} (extended by {by} to {fmt_utc(until)})", project.id))
        return await self.by_id(project.id)

    async def team_of(self, user_id: str) -> Team:
        """The team of a member who acts on its project, or NotAllowed saying how to get one."""
        row = await self.store.fetchone(
            "SELECT t.id, t.name, t.username, t.validated FROM teams t JOIN team_members m ON m.team_id = t.id"
            " WHERE m.user_id = ?", (user_id,))
        if row is None:
            raise NotAllowed("you are not in a team; join one (/team join) or create one (/team create) first")
        return Team(row[0], row[1], row[2], bool(row[3]))

    # --- repository checks, the deadline snapshot, the draft reminders ----------------------------

    async def check_repository(self, project_id: int) -> RepoCheck | None:
        """Check the project's repository now and store what was found; an unreachable host leaves
        it unverified, to be checked again at `retry_at`."""
        project = await self.by_id(project_id)
        if project.repo_url is None:
            return None
        ref = normalize_repo_url(project.repo_url, self.section.repo_hosts)
        now = self.clock()
        if self.checker is None:
            check = RepoCheck(ref.url, "unverified", now, retry_at=now + RECHECK_WITHOUT_CHECKER,
                              reason="repositories are not checked right now; it will be checked later")
        else:
            check = await self.checker.check(ref, self.section.repo_policy())
        verified = None if check.status == "unverified" else int(check.status == "verified" and not check.warnings)
        retry = check.retry_at.timestamp() if check.status == "unverified" and check.retry_at else None
        await self.store.execute(
            "UPDATE projects SET checks = ?, verified = ?, checked_at = ?, recheck_at = ? WHERE id = ? AND repo_url = ?",
            (json.dumps([n.__dict__ for n in notes_of(check)]), verified, now.timestamp(), retry, project_id, ref.url))
        return check

    async def recheck_due(self) -> int:
        """Check again the repositories left unverified whose retry time came; how many were checked."""
        now = self.clock().timestamp()
        rows = await self.store.fetchall(
            "SELECT id FROM projects WHERE recheck_at IS NOT NULL AND recheck_at <= ? AND repo_url IS NOT NULL"
            " AND status <> 'withdrawn' ORDER BY recheck_at", (now,))
        done = 0
        for (project_id,) in rows:
            check = await self.check_repository(project_id)
            done += check is not None and check.status != "unverified"
        return done

    async def snapshot_due(self) -> int:
        """Record the latest commit at the deadline of every submitted project whose deadline passed;
        how many were recorded. A host that cannot be asked now is asked at the next run."""
        if self.checker is None:
            return 0
        now = self.clock()
        recorded = 0
        for project in await self.all(status="submitted"):
            if project.deadline_commit is not None or project.repo_url is None or project.deadline is None:
                continue
            if now < project.deadline:
                continue
            ref = normalize_repo_url(project.repo_url, self.section.repo_hosts)
            try:
                commit = await self.checker.snapshot(ref, project.deadline)
            except RepoUnavailable:
                continue
            if commit is None:
                continue
            recorded += await self.store.execute(
                "UPDATE projects SET deadline_commit = ?, commits_after_deadline = 0, after_checked_at = ?"
                " WHERE id = ? AND deadline_commit IS NULL", (commit.sha, now.timestamp(), project.id))
        return recorded

    async def count_after_due(self, every: timedelta = timedelta(hours=1)) -> int:
        """Count the commits pushed after each deadline commit (judges see "N commits after the deadline")."""
        if self.checker is None:
            return 0
        now = self.clock()
        counted = 0
        rows = await self.store.fetchall(
            "SELECT id, repo_url, deadline_commit FROM projects WHERE deadline_commit IS NOT NULL AND status = 'submitted'"
            " AND (after_checked_at IS NULL OR after_checked_at <= ?)", (now.timestamp() - every.total_seconds(),))
        for project_id, repo_url, sha in rows:
            ref = normalize_repo_url(repo_url, self.section.repo_hosts)
            try:
                after = await self.checker.after(ref, sha)
            except RepoUnavailable:
                continue
            if not after.found:
                continue
            counted += await self.store.execute(
                "UPDATE projects SET commits_after_deadline = ?, after_checked_at = ? WHERE id = ?",
                (after.ahead_by, now.timestamp(), project_id))
        return counted

    async def draft_reminders_due(self) -> list[DraftReminder]:
        """Claim the draft reminders due now (each project's, once per offset, even with several
        processes: the claim is an INSERT the primary key lets through once). Each claimed one is
        an outbox row to the team's channel, written with the claim: whichever process claims it
        (the bot, a web process, `hackbot projects check`), the bot posts it."""
        section = self.config.projects
        if section is None or section.closes is None:
            return []
        now = self.clock()
        due: list[DraftReminder] = []
        for project in await self.all(status="draft"):
            deadline = project.deadline
            if deadline is None or now >= deadline:
                continue
            offsets = [b for b in section.remind_drafts_before if deadline - b <= now]
            if not offsets:
                continue
            before = min(offsets)  # the nearest one: a late start does not send the 24 h one after the 1 h one
            reminder = DraftReminder(project, before, deadline)
            claimed = await self.store.run(_claim_reminder, project.id, [b.total_seconds() for b in offsets],
                                           before.total_seconds(), now.timestamp(), project.team_id, reminder.text())
            if claimed:
                due.append(reminder)
        if due:
            self.outbox.wake()
        return due

    async def next_due(self) -> datetime | None:
        """The next moment scheduled work falls due (a re-check, a deadline, a draft reminder), for
        the runner's timer; None when nothing is ahead."""
        section = self.config.projects
        if section is None:
            return None
        now = self.clock().timestamp()
        times: list[float] = []
        recheck = await self.store.fetchval("SELECT min(recheck_at) FROM projects WHERE recheck_at IS NOT NULL")
        if recheck is not None:
            times.append(recheck)
        own = await self.store.fetchall("SELECT deadline FROM projects WHERE deadline IS NOT NULL")
        deadlines = [r[0] for r in own] + ([section.closes.timestamp()] if section.closes else [])
        times += deadlines
        times += [d - b.total_seconds() for d in deadlines for b in section.remind_drafts_before]
        ahead = [t for t in times if t > now]
        return _ts(min(ahead)) if ahead else None

    # --- export -----------------------------------------------------------------------------------

    async def export_rows(self) -> list[dict[str, Any]]:
        rows = []
        for p in await self.all():
            if p.status == "draft":
                continue
            rows.append({
                "team": p.team_name, "title": p.title, "summary": p.summary, "status": p.status,
                "category": p.category, "opt_ins": list(p.opt_ins), "repo_url": p.repo_url, "demo_url": p.demo_url,
                "answers": p.answers, "moderation": p.moderation, "moderation_reason": p.moderation_reason,
                "verified": p.verified, "warnings": [n.message for n in p.warnings],
                "flags": [n.message for n in p.flags], "deadline_commit": p.deadline_commit,
                "commits_after_deadline": p.commits_after_deadline, "extension_reason": p.extension_reason,
                "version": p.version, "submitted_at": p.submitted_at.isoformat() if p.submitted_at else None,
                "updated_by": p.updated_by,
            })
        return rows

    async def export(self, fmt: str) -> str:
        """json, or devpost-csv (the columns of Devpost's project export, for judging elsewhere)."""
        rows = await self.export_rows()
        if fmt == "json":
            return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
        if fmt != "devpost-csv":
            raise BadInput(f"{fmt!r} is not an export format; use json or devpost-csv")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Project Title", "Submission Url", "Project Status", "Judging Status", "Highest Step Completed",
                         "Project Created At", "About The Project", "\"Try it out\" Links", "Video Demo Link",
                         "Opt-In Prizes", "Team Name", "Category", "Deadline Commit", "Commits After Deadline"])
        for r in rows:
            writer.writerow([r["title"], r["repo_url"] or "", r["status"], r["moderation"], "Submit",
                             r["submitted_at"] or "", r["summary"], r["repo_url"] or "", r["demo_url"] or "",
                             ", ".join(r["opt_ins"]), r["team"], r["category"] or "", r["deadline_commit"] or "",
                             "" if r["commits_after_deadline"] is None else r["commits_after_deadline"]])
        return out.getvalue()


RECHECK_WITHOUT_CHECKER = timedelta(minutes=10)


async def _version(tx: Tx, project_id: int, version: int, status: str, fields: dict[str, Any], author: str,
                   change: str, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO project_versions(project_id, version, status, title, summary, repo_url, demo_url, category,"
        " opt_ins, answers, author, change, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (project_id, version, status, fields["title"], fields["summary"], fields["repo_url"], fields["demo_url"],
         fields["category"], fields["opt_ins"], fields["answers"], author, change, now.timestamp()))


async def _claim_reminder(tx: Tx, project_id: int, offsets: list[float], send: float, now: float, team_id: int,
                          text: str) -> bool:
    """Mark every passed offset as done; True when the one to send was not claimed before (its
    notice to the team's channel is queued in the same transaction)."""
    async with tx.transaction():
        await tx.lock("project-reminder", project_id)
        sent = await tx.fetchval("SELECT count(*) FROM project_reminders WHERE project_id = ? AND offset_s = ?",
                                 (project_id, send))
        for offset in offsets:
            await tx.execute("INSERT INTO project_reminders(project_id, offset_s, sent_at) VALUES (?, ?, ?)"
                             " ON CONFLICT (project_id, offset_s) DO NOTHING", (project_id, offset, now))
        if not sent:
            await enqueue(tx, TEAM_NOTICE, f"{TEAM_NOTICE}:{team_id}:draft:{int(send)}:{secrets.token_hex(6)}",
                          {"team_id": team_id, "content": text}, lane=team_lane(team_id))
        return not sent

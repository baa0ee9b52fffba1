"""民主测评 pages (docs/surveys.md#pages): ``/admin/surveys/`` (the list), ``…/new`` (set up),
``…/<id>`` (targets and their 述职, turnout, codes, publish and close, the tally with its
chart), ``…/<id>/codes`` (POST: the slips' PDF), ``…/<id>/tally.xlsx``.

The view reads the request and shows what ``operations`` answers; roles and states are
checked there (and by ``AccessMixin`` for the menu and the door).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from evaluation.admin.access import AccessMixin
from evaluation.core.downloads import content_disposition
from evaluation.core.permissions import can
from evaluation.core.spreadsheets import neutralize
from evaluation.core.states import SURVEY_WORKFLOW, SurveyStatus
from evaluation.core.writing import InvalidInput, NotFound, ServiceError
from evaluation.i18n import SHANGHAI, local_time
from evaluation.surveys import operations
from models import Cadre, SurveyTarget, Unit, db
from models.surveys import DEFAULT_OPTIONS, TARGET_KINDS

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Rows of rater groups on the set-up form, and the usual three filled in.
GROUP_ROWS = 5
DEFAULT_GROUPS = (("班子成员", "40", "10"), ("中层干部", "30", "20"), ("群众代表", "30", "30"))


def vote_base() -> str:
    """The voting address the slips print (config ``SURVEY_VOTE_URL``, else this site's)."""
    from flask import current_app

    return current_app.config.get("SURVEY_VOTE_URL") or url_for("vote.ballot", _external=True)


def _moment(text: str, what: str, problems: list[str]) -> datetime | None:
    """A ``datetime-local`` value, read in Beijing time, as naive UTC."""
    text = (text or "").strip()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            moment = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return moment.replace(tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)
    problems.append(f"{what}须为日期和时间，如 2026-12-01 09:00")
    return None


def _whole(text: str, what: str, problems: list[str], *, blank=None):
    text = (text or "").strip()
    if not text:
        return blank
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        problems.append(f"{what}须为整数：{text}")
        return blank
    return int(text)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 10]


class SurveysView(AccessMixin, BaseView):
    """民主测评: surveys, their codes and slips, and their tallies once closed."""

    permission = "survey.view"

    def _survey(self, survey_id: int):
        try:
            return operations.find(survey_id)
        except NotFound:
            abort(404)

    @expose("/")
    def index(self):
        surveys = operations.all_surveys()
        return self.render(
            "surveys/index.html", surveys=surveys, statuses=SurveyStatus.labels(),
            kinds=TARGET_KINDS, may_write=can(current_user, "survey.write"),
            local_time=local_time,
            turnouts={s.id: operations.turnout(s) for s in surveys},
        )  # fmt: skip

    # --- set up -------------------------------------------------------------------

    def _form_page(self, form: dict, error: str | None = None, status: int = 200):
        cadres = db.session.scalars(
            select(Cadre).where(Cadre.active).order_by(Cadre.unit_id, Cadre.id)
        ).all()
        towns = db.session.scalars(
            select(Unit)
            .where(Unit.level == "town", Unit.active)
            .order_by(Unit.sort_order, Unit.code)
        ).all()
        return self.render(
            "surveys/new.html", form=form, error=error, cadres=cadres, towns=towns,
            kinds=TARGET_KINDS, group_rows=GROUP_ROWS, options=DEFAULT_OPTIONS,
        ), status  # fmt: skip

    @expose("/new", methods=["GET", "POST"])
    def new(self):
        if not can(current_user, "survey.write"):
            abort(403)
        if request.method == "GET":
            form = {"target_kind": "cadre"}
            for i, (name, weight, codes) in enumerate(DEFAULT_GROUPS):
                form |= {f"group_name_{i}": name, f"group_weight_{i}": weight,
                         f"group_codes_{i}": codes}  # fmt: skip
            for key, label, score in DEFAULT_OPTIONS:
                form |= {f"option_label_{key}": label, f"option_score_{key}": str(score)}
            return self._form_page(form)
        form = request.form.to_dict()
        form["cadres"] = request.form.getlist("cadres")
        form["towns"] = request.form.getlist("towns")
        try:
            survey = operations.create_survey(current_user, **self._parse(form))
        except ServiceError as error:
            return self._form_page(form, error.message, error.status)
        flash(f"已设立民主测评“{survey.title}”（草稿），可填写述职内容后发布。", "success")
        return redirect(url_for(".detail", survey_id=survey.id))

    def _parse(self, form: dict) -> dict:
        problems: list[str] = []
        groups = []
        for i in range(GROUP_ROWS):
            name = form.get(f"group_name_{i}", "").strip()
            if not name:
                continue
            codes = _whole(
                form.get(f"group_codes_{i}", ""), f"{name}的测评码数量", problems, blank=0
            )
            groups.append((name, form.get(f"group_weight_{i}", "").strip() or "0", codes))
        options = [
            (key, form.get(f"option_label_{key}", ""), form.get(f"option_score_{key}", ""))
            for key, _, _ in DEFAULT_OPTIONS
        ]
        kind = form.get("target_kind", "")
        if kind == "leadership":
            units = {
                u.id: u
                for u in db.session.scalars(select(Unit).where(Unit.id.in_(_ids(form["towns"]))))
            }
            targets = [{"unit": units[i]} for i in _ids(form["towns"]) if i in units]
        else:
            cadres = {
                c.id: c
                for c in db.session.scalars(select(Cadre).where(Cadre.id.in_(_ids(form["cadres"]))))
            }
            targets = [{"cadre": cadres[i]} for i in _ids(form["cadres"]) if i in cadres]
        parsed = {
            "title": form.get("title", ""), "target_kind": kind,
            "opens_at": _moment(form.get("opens_at", ""), "开始时间", problems),
            "closes_at": _moment(form.get("closes_at", ""), "结束时间", problems),
            "groups": groups, "targets": targets, "options": options,
            "excellent_cap": _whole(form.get("excellent_cap", ""), "“优秀”名额上限", problems),
            "note": form.get("note", ""),
        }  # fmt: skip
        if problems:
            raise InvalidInput("；".join(problems), details=problems)
        return parsed

    # --- one survey ---------------------------------------------------------------

    def _detail_page(self, survey, error: str | None = None, status: int = 200):
        result = None
        if survey.status == SurveyStatus.CLOSED and can(current_user, "survey.tally"):
            result = operations.tally(current_user, survey)
        return self.render(
            "surveys/detail.html", survey=survey, error=error, result=result,
            statuses=SurveyStatus.labels(), kinds=TARGET_KINDS,
            turnout=operations.turnout(survey), window=operations.voting_window(survey),
            may_write=can(current_user, "survey.write"), workflow=SURVEY_WORKFLOW,
            vote_base=vote_base(), local_time=local_time,
        ), status  # fmt: skip

    @expose("/<int:survey_id>")
    def detail(self, survey_id: int):
        return self._detail_page(self._survey(survey_id))

    @expose("/<int:survey_id>/<action>", methods=["POST"])
    def transition(self, survey_id: int, action: str):
        survey = self._survey(survey_id)
        if action not in SURVEY_WORKFLOW:
            abort(404)
        try:
            if action == "publish":
                operations.publish(current_user, survey)
                flash("测评已发布：可以生成测评码、打印选票。", "success")
            else:
                result = operations.close(current_user, survey)
                flash(
                    f"测评已结束：共 {result['survey']['ballots']} 张选票，结果已记入干部台账。",
                    "success",
                )
        except ServiceError as error:
            return self._detail_page(survey, error.message, error.status)
        return redirect(url_for(".detail", survey_id=survey.id))

    @expose("/<int:survey_id>/report", methods=["POST"])
    def report(self, survey_id: int):
        survey = self._survey(survey_id)
        target = db.session.get(SurveyTarget, _whole(request.form.get("target", ""), "", []) or 0)
        if target is None or target.survey_id != survey.id:
            abort(404)
        try:
            operations.set_report(current_user, target, request.form.get("report", ""))
        except ServiceError as error:
            return self._detail_page(survey, error.message, error.status)
        flash(f"已保存{target.name}的述职内容。", "success")
        return redirect(url_for(".detail", survey_id=survey.id) + f"#target-{target.id}")

    @expose("/<int:survey_id>/codes", methods=["POST"])
    def codes(self, survey_id: int):
        from evaluation.reports import pdf
        from evaluation.surveys import slips

        survey = self._survey(survey_id)
        problems: list[str] = []
        count = _whole(request.form.get("count", ""), "数量", problems)
        try:
            if problems or count is None:
                raise InvalidInput(problems[0] if problems else "请填写要生成的测评码数量")
            base = vote_base()
            _, document = operations.issue_codes(
                current_user, survey, request.form.get("group", ""), count,
                prepare=lambda group, codes: (group, slips.slips_pdf(survey, group, codes, base)),
            )  # fmt: skip
        except ServiceError as error:
            return self._detail_page(survey, error.message, error.status)
        group, content = document
        response = Response(content, mimetype=pdf.PDF_TYPE)
        response.headers["Content-Disposition"] = content_disposition(
            slips.slips_filename(survey, group), fallback=f"survey-{survey.id}-slips.pdf"
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<int:survey_id>/tally.xlsx")
    def tally_xlsx(self, survey_id: int):
        survey = self._survey(survey_id)
        try:
            result = operations.tally(current_user, survey)
        except ServiceError as error:
            return self._detail_page(survey, error.message, error.status)
        response = Response(tally_workbook(result), mimetype=XLSX_TYPE)
        response.headers["Content-Disposition"] = content_disposition(
            f"民主测评结果-{survey.id}-{survey.title}.xlsx", fallback=f"survey-{survey.id}.xlsx"
        )
        return response


def tally_workbook(result: dict) -> bytes:
    """The tally as XLSX: one row per target and rater group, then the target's totals.
    Every text cell through the formula guard (``core/spreadsheets.py``)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "计票结果"
    labels = [o["label"] for o in result["options"]]
    keys = [o["key"] for o in result["options"]]
    sheet.append([neutralize(result["survey"]["title"])])
    sheet.append(
        [f"结束时间 {result['survey']['closed_at']}，共 {result['survey']['ballots']} 张选票"]
    )
    sheet.append(["测评对象", "职务", "测评人群体", "权重", "票数", *labels, "平均分",
                  "综合得分", "优秀率(%)", "称职以上率(%)", "不称职票数"])  # fmt: skip
    for row in result["targets"]:
        for group in row["groups"]:
            sheet.append([
                neutralize(row["name"]), neutralize(row["position"]), neutralize(group["name"]),
                Decimal(group["weight"]), group["ballots"], *[group["counts"][k] for k in keys],
                None if group["mean"] is None else Decimal(group["mean"]), None, None, None, None,
            ])  # fmt: skip
        sheet.append([
            neutralize(row["name"]), neutralize(row["position"]), "合计", 100, row["ballots"],
            *[row["counts"][k] for k in keys], None,
            None if row["score"] is None else Decimal(row["score"]),
            None if row["excellent_rate"] is None else Decimal(row["excellent_rate"]),
            None if row["competent_rate"] is None else Decimal(row["competent_rate"]),
            row["incompetent"],
        ])  # fmt: skip
    for column, width in zip(
        "ABCDEFGHIJKLMNO", (14, 22, 12, 7, 7, 8, 8, 10, 8, 8, 10, 10, 12, 12, 10), strict=False
    ):
        sheet.column_dimensions[column].width = width
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def register(admin, category) -> None:
    """Add the surveys page to the admin menu (under ``category``)."""
    admin.add_view(
        SurveysView(name=_l("民主测评"), category=category, endpoint="surveys",
                    url="/admin/surveys")
    )  # fmt: skip

"""Flask-Admin list pages read their query string through ``evaluation.web.int_arg``.

Flask-Admin parses ``page``, ``page_size``, ``sort`` and ``desc`` with ``int`` and lets
an integer filter (``flt0_0``) through whatever its size; a number beyond the
database's integers (``page=9223372036854775808``) then failed in the database with a
500. Here they are read by the one reader of whole numbers: a mistyped one is as if
absent (a filter's says so), one past the database's integers is refused with a 400
(docs/rules.md#security).
"""

from __future__ import annotations

from flask import flash
from flask_admin.model.filters import BaseIntFilter, BaseIntListFilter

from evaluation.web import int_arg


class ListArgsMixin:
    """Mixed into every model view (``LedgerModelView``)."""

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        args.page = int_arg("page") or 0
        args.page_size = int_arg("page_size") or 0
        args.sort = int_arg("sort")
        args.sort_desc = int_arg("desc")
        return args

    def _get_list_filter_args(self):
        filters = super()._get_list_filter_args()
        if not filters:
            return filters
        kept = []
        for index, name, value in filters:
            flt = self._filters[index]
            if isinstance(flt, BaseIntFilter | BaseIntListFilter):
                parts = [part.strip() for part in str(value).split(",")]
                if not all(int_arg(name, {name: part.lstrip("-")}) is not None for part in parts):
                    flash(f"筛选条件「{name}」的数值无效：{value[:40]}", "error")
                    continue
            kept.append((index, name, value))
        return kept

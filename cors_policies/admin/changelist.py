"""The policy list's ChangeList: in the engine's precedence order unless a column is clicked."""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.paginator import InvalidPage
from django.db import models
from django.http import HttpRequest

from ..models import CorsPolicy
from ..services import precedence


class PolicyChangeList(ChangeList):
    """The policy list, in precedence order unless a column is clicked.

    Precedence is the engine's, not stored: the ranks come from the set this process serves and the order of
    all rows from their patterns (:mod:`cors_policies.services.precedence`), sorted here in Python and paginated
    as a list of ids, so a page costs one query for four columns of the matching rows and one for the page's rows,
    however many policies there are. The "#" column is marked as the sorted one (Django would mark the
    columns of the model's ``Meta.ordering``, which is not what is shown).
    """

    precedence_direction: str | None = None  # "asc" or "desc" when the rows are sorted by precedence

    def get_ordering(self, request: HttpRequest, queryset: models.QuerySet[CorsPolicy]) -> list[Any]:
        self.precedence_direction = None
        order = str(self.params.get(ORDER_VAR) or "")
        if not order:
            self.precedence_direction = "asc"
            return ["pk"]
        # The rank column sorts in Python: Django must never see it (6.1 resolves every ordering field).
        columns = list(self.list_display)
        rank = str(columns.index("precedence_rank")) if "precedence_rank" in columns else None
        parts = order.split(".")
        first = parts[0].rpartition("-")
        if rank is not None and first[2] == rank:
            self.precedence_direction = "desc" if first[1] == "-" else "asc"
            return ["pk"]
        kept = [part for part in parts if part.rpartition("-")[2] != rank]
        saved = self.params.get(ORDER_VAR)
        self.params[ORDER_VAR] = ".".join(kept)
        try:
            ordering = list(super().get_ordering(request, queryset))
        finally:
            self.params[ORDER_VAR] = saved
        return ordering or ["pk"]

    def get_ordering_field_columns(self) -> dict[int, Literal["desc", "asc"]]:
        columns = list(self.list_display)
        if ORDER_VAR in self.params or "precedence_rank" not in columns:
            return super().get_ordering_field_columns()
        return {columns.index("precedence_rank"): "asc"}

    def get_results(self, request: HttpRequest) -> None:
        rank = precedence.ranking()
        if self.precedence_direction is None:
            super().get_results(request)
        else:
            self._get_results_by_precedence(request, rank)
        self.result_list = list(self.result_list)
        for policy in self.result_list:
            policy.serving_rank = rank.serving.get(policy.pk, 0)
            policy.report_rank = rank.reporting.get(policy.pk, 0)

    def _get_results_by_precedence(self, request: HttpRequest, rank: precedence.Ranking) -> None:
        """ChangeList.get_results, with the page cut from the ids in precedence order."""
        rows = self.queryset.order_by().values_list("pk", "path_pattern", "priority", "report_only")
        ids = precedence.ordered_ids(rows, rank, descending=self.precedence_direction == "desc")
        paginator = self.model_admin.get_paginator(request, ids, self.list_per_page)  # type: ignore[arg-type]
        result_count = paginator.count
        full_result_count = self.root_queryset.count() if self.model_admin.show_full_result_count else None
        can_show_all = result_count <= self.list_max_show_all
        multi_page = result_count > self.list_per_page
        if (self.show_all and can_show_all) or not multi_page:
            page_ids = ids
        else:
            try:
                page_ids = list(paginator.page(self.page_num).object_list)
            except InvalidPage:
                raise IncorrectLookupParameters from None
        found = {policy.pk: policy for policy in self.queryset.order_by().filter(pk__in=page_ids)}
        self.result_count = result_count
        self.show_full_result_count = self.model_admin.show_full_result_count
        self.show_admin_actions = not self.show_full_result_count or bool(full_result_count)
        self.full_result_count = full_result_count
        self.result_list = [found[pk] for pk in page_ids if pk in found]
        self.can_show_all = can_show_all
        self.multi_page = multi_page
        self.paginator = paginator

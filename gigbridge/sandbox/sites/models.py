"""SharePoint sites and their modern pages, as the Graph emulator keeps them."""

from __future__ import annotations

import uuid

from django.db import models


class Site(models.Model):
    """A SharePoint site. Its Graph id is ``{host},{site collection id},{web id}``."""

    graph_id = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=100, unique=True)  # the URL name: /sites/{name}
    display_name = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField()

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class SitePage(models.Model):
    """A modern page (``sitePage``): its draft, and what was last published of it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="pages")
    name = models.CharField(max_length=128)  # the file name, "program-hub.aspx"
    title = models.CharField(max_length=255, blank=True)
    page_layout = models.CharField(max_length=40, default="article")
    promotion_kind = models.CharField(max_length=40, default="page")
    show_comments = models.BooleanField(default=True)
    show_recommended_pages = models.BooleanField(default=True)
    title_area = models.JSONField(null=True, blank=True)
    canvas = models.JSONField(default=dict)  # the draft's canvasLayout, ids filled in
    # Minor versions are drafts (0.1, 0.2 ...), publishing makes the next major (1.0, 2.0).
    major = models.PositiveIntegerField(default=0)
    minor = models.PositiveIntegerField(default=1)
    published_title = models.CharField(max_length=255, blank=True)
    published_canvas = models.JSONField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField()
    modified = models.DateTimeField()
    created_by = models.JSONField(default=dict)
    modified_by = models.JSONField(default=dict)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="sandbox_sitepage_site_name")
        ]

    def __str__(self) -> str:
        return f"{self.site.name}/{self.name}"

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def published(self) -> bool:
        return self.minor == 0 and self.major > 0

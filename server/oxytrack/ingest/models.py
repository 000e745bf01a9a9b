"""Batches received from agents, kept to answer replays without storing twice."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Batch(models.Model):
    batch_id = models.UUIDField(unique=True)
    employee = models.ForeignKey("org.Employee", on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey("org.Device", on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    span_count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["device", "received_at"])]

    def __str__(self) -> str:
        return str(self.batch_id)

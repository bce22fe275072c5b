"""Per-request HTTP metrics for both services: django-prometheus's middleware, cut to the series a
dashboard of rate, errors and duration by view reads.

Kept: `django_http_responses_total_by_status_view_method` (requests by view, method and status),
`django_http_requests_latency_seconds_by_view_method` (their latency) and, from django-prometheus's
own exception hook, `django_http_exceptions_total_by_type` / `_by_view`. Left out: the totals
before the other middleware, by method, by transport, the body-size histograms, charsets and
streaming counts — the same requests counted again, each a write to the multiprocess files."""

from __future__ import annotations

from django_prometheus.middleware import PrometheusAfterMiddleware
from django_prometheus.utils import Time, TimeSince


class RequestMetrics(PrometheusAfterMiddleware):
    """In MIDDLEWARE where django-prometheus's After middleware goes (its Before one is not needed)."""

    def process_request(self, request):
        request.prometheus_after_middleware_event = Time()

    def process_view(self, request, view_func, *view_args, **view_kwargs):
        return None

    def process_template_response(self, request, response):
        return response

    def process_response(self, request, response):
        view, method = self._get_view_name(request), self._method(request)
        self.metrics.responses_by_status_view_method.labels(
            status=str(response.status_code), view=view, method=method
        ).inc()
        started = getattr(request, "prometheus_after_middleware_event", None)
        if started is not None:
            self.metrics.requests_latency_by_view_method.labels(view=view, method=method).observe(TimeSince(started))
        return response

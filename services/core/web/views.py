"""The web pages. Like the API views, each one checks the form, calls the core's services and
selectors, and renders the result: the rules live in those services, never here."""

from __future__ import annotations

import contextlib
from datetime import tzinfo
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.forms import CharField
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from signin.services import SignIn, auth_sign_in

from common.links import invite_url
from common.phones import phone_normalize
from invites import selectors as invite_selectors
from invites.errors import InviteCodeNotFound, NotNewAccount
from invites.qr import invite_qr_svg
from invites.services import invite_activate
from svckit.errors import ApplicationError, TooManyRequests
from users import selectors, services, stats
from users.exports import referrals_csv_response
from users.invite_codes import InvalidInviteCode, invite_code_normalize
from web import pending, throttling
from web.forms import CodeForm, InviteCodeForm, PhoneForm

# Errors about the number itself: shown under the phone field, not above the form.
PHONE_ERRORS = {"invalid_phone", "unsupported_number", "unsupported_country"}


@require_GET
def home(request):
    return redirect("web:profile" if request.user.is_authenticated else "web:login")


def _keep_invite_from_link(request) -> None:
    """`/login/?invite_code=…` (the share link's button): remember a well-formed code for the sign-in."""
    raw = request.GET.get("invite_code")
    if raw is None:
        return
    # A mangled link signs in without an invite; the profile form is still there.
    with contextlib.suppress(InvalidInviteCode):
        pending.invite_keep(request, invite_code=invite_code_normalize(raw))


@require_http_methods(["GET", "POST"])
def login_phone(request):
    _keep_invite_from_link(request)
    form = PhoneForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            throttling.code_check(request)
            phone = phone_normalize(form.cleaned_data["phone"])
            sent = services.auth_code_send(phone=phone, language=request.LANGUAGE_CODE)
        except ApplicationError as error:
            form.add_error("phone" if error.code in PHONE_ERRORS else None, error.human_message())
        else:
            pending.start(request, phone=phone, resend_in=sent.resend_in)
            return redirect("web:login-code")
    return render(request, "web/login.html", {"form": form, "invite_code": pending.invite_code(request)})


def _code_page(request, form: CodeForm):
    context = {
        "form": form,
        "phone": pending.phone(request),
        "resend_in": pending.resend_in(request),
        "inbox_url": settings.DEV_SMS_INBOX_URL,
        "invite_code": pending.invite_code(request),
    }
    return render(request, "web/login_code.html", context)


@require_http_methods(["GET", "POST"])
def login_code(request):
    phone = pending.phone(request)
    if phone is None:
        return redirect("web:login")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            throttling.token_check(request)
            invite_code = pending.invite_code(request)
            signed_in = auth_sign_in(phone=phone, code=form.cleaned_data["code"], invite_code=invite_code)
        except ApplicationError as error:
            form.add_error("code" if error.code == "invalid_code" else None, error.human_message())
        else:
            # A new session key: a planted session id is worthless. The code was the credential,
            # so no password backend (nor django-axes, which guards the admin's) is asked.
            login(request, signed_in.user, backend="django.contrib.auth.backends.ModelBackend")
            pending.clear(request)
            return _after_sign_in(request, signed_in, invite_code)
    return _code_page(request, form)


def _after_sign_in(request, signed_in: SignIn, invite_code: str | None):
    """Say what became of the invite code the sign-in carried. An existing account is never given
    one silently: it lands on the profile with the code filled in and a button to confirm."""
    if signed_in.invite_applied:
        messages.success(request, _("Invite code activated."))
    elif isinstance(signed_in.invite_error, NotNewAccount):  # the code waits for a confirmation
        return redirect(reverse("web:profile") + "?" + urlencode({"invite_code": invite_code or ""}))
    elif signed_in.invite_error is not None:
        messages.error(request, signed_in.invite_error.human_message())
    return redirect("web:profile")


@require_POST
def login_resend(request):
    phone = pending.phone(request)
    if phone is None:
        return redirect("web:login")
    try:
        throttling.code_check(request)
        sent = services.auth_code_send(phone=phone, language=request.LANGUAGE_CODE)
    except ApplicationError as error:
        if error.code == "too_many_requests" and error.retry_after:
            pending.wait(request, seconds=error.retry_after)
        messages.error(request, error.human_message())
    else:
        pending.start(request, phone=phone, resend_in=sent.resend_in)
        messages.success(request, _("A new code is on its way."))
    return redirect("web:login-code")


# Set by app.js from the browser (Intl's time zone): the chart's days are the visitor's.
TIMEZONE_COOKIE = "tz"


def _visitor_timezone(request) -> tzinfo:
    """The time zone the browser reported (TIMEZONE_COOKIE); UTC without one or for a name we do not know."""
    try:
        return stats.timezone_get(name=request.COOKIES.get(TIMEZONE_COOKIE, stats.DEFAULT_TIMEZONE))
    except stats.InvalidTimezone:
        return stats.timezone_get(name=stats.DEFAULT_TIMEZONE)


def _profile_page(request, form: InviteCodeForm):
    profile = selectors.profile_get(user=request.user)
    referral_stats = stats.referrals_stats(user=request.user, zone=_visitor_timezone(request))
    days = referral_stats.referrals_by_day
    cursor = request.GET.get("cursor") or None
    try:
        referrals = selectors.referrals_page(user=request.user, cursor=cursor, limit=selectors.PROFILE_REFERRALS)
    except selectors.InvalidCursor:
        cursor, referrals = None, selectors.referrals_page(user=request.user, limit=selectors.PROFILE_REFERRALS)
    share_url = invite_url(invite_code=profile.invite_code, request=request)
    peak = max((day.count for day in days), default=0)
    context = {
        "profile": profile,
        "form": form,
        "referrals": referrals,
        "cursor": cursor,
        "offered_invite_code": form["invite_code"].initial if not form.is_bound else "",
        "invite_url": share_url,
        "chart": _day_bars(days, peak=peak),
        "last_30_days": sum(day.count for day in days),
        "stats_tz": referral_stats.tz,
        # segno writes the SVG and escapes the title: nothing from the visitor reaches it unescaped.
        "invite_qr": mark_safe(invite_qr_svg(url=share_url, title=_("QR code of your invite link"))),  # noqa: S308
    }
    return render(request, "web/profile.html", context)


CHART_HEIGHT = 60  # SVG units; bars are drawn with attributes, not inline styles (the pages' CSP)
BAR_STEP = 10


def _day_bars(days: list[stats.DayCount], *, peak: int) -> list[dict]:
    """Bar geometry of the 30-day chart: each bar's x, y and height in SVG units, tallest = full height."""
    bars = []
    for n, day in enumerate(days):
        height = round(day.count / peak * CHART_HEIGHT) if peak else 0
        height = max(height, 1 if day.count else 0)
        bars.append(
            {"date": day.date, "count": day.count, "x": n * BAR_STEP, "y": CHART_HEIGHT - height, "height": height}
        )
    return bars


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    # `?invite_code=` (a share link followed while signed in): the form comes filled in, to confirm.
    field = cast(CharField, InviteCodeForm.base_fields["invite_code"])
    offered = request.GET.get("invite_code", "")[: field.max_length]
    form = InviteCodeForm(request.POST if request.method == "POST" else None, initial={"invite_code": offered})
    if form.is_valid():
        try:
            throttling.invite_check(request)
            invite_activate(user=request.user, invite_code=form.cleaned_data["invite_code"])
        except ApplicationError as error:
            form.add_error("invite_code", error.human_message())
        else:
            messages.success(request, _("Invite code activated."))
            return redirect("web:profile")
    return _profile_page(request, form)


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("web:login")


@require_GET
def invite_landing(request, invite_code: str):
    """The share link's page: who invites (masked phone), Open Graph tags for previews, a sign-in button.
    Limited per client address like an activation: each answer says whether a code exists."""
    try:
        throttling.invite_landing_check(request)
    except TooManyRequests as error:
        response = render(request, "web/429.html", {"message": error.human_message()}, status=429)
        response["Retry-After"] = str(error.retry_after or 60)
        return response
    try:
        inviter = invite_selectors.inviter_get(invite_code=invite_code)
    except (InvalidInviteCode, InviteCodeNotFound):
        return render(request, "web/invite_not_found.html", {"invite_code": invite_code[:32]}, status=404)
    if inviter.invite_code != invite_code:  # `abc-l23` → `/r/ABC123/`: one address per link
        return redirect("web:invite", invite_code=inviter.invite_code)
    own = request.user.is_authenticated and request.user.invite_code == inviter.invite_code
    target = "web:profile" if request.user.is_authenticated else "web:login"
    query = "" if own else "?" + urlencode({"invite_code": inviter.invite_code})
    context = {
        "inviter": inviter,
        "own": own,
        "share_url": invite_url(invite_code=inviter.invite_code, request=request),
        "next_url": reverse(target) + query,
    }
    return render(request, "web/invite.html", context)


@login_required
@require_GET
def referrals_csv(request):
    return referrals_csv_response(user=request.user)

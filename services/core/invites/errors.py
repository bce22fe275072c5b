"""Why an invite code cannot be activated (rendered by svckit.handlers.exception_handler)."""

from django.utils.translation import gettext_lazy as _

from svckit.errors import ApplicationError


class InviteCodeNotFound(ApplicationError):
    code = "invite_code_not_found"
    message = _("No one has this invite code.")
    status = 404


class OwnInviteCode(ApplicationError):
    code = "own_invite_code"
    message = _("You cannot activate your own invite code.")
    page_message = _("This is your own invite code: ask a friend for theirs.")


class ReferralCycle(ApplicationError):
    code = "referral_cycle"
    message = _("This code belongs to someone you invited (directly or through others).")


class NotNewAccount(ApplicationError):
    code = "not_new_account"
    message = _("An invite code rides on a sign-in only when it creates the account; activate it on the profile.")
    status = 409


class InviteAlreadyActivated(ApplicationError):
    code = "invite_already_activated"
    message = _("You have already activated an invite code.")
    status = 409

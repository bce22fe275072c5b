"""Signing in with an invite code along: the one place that uses both users (the account) and
invites (the referral). Neither of them imports this package (the import contracts say so)."""

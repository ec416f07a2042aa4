"""The sign-in methods of the hosted pages: email code, magic link, passkey, SMS code, upstream providers."""

"""The provider's other hosted pages: the account page, consent, and the assets the pages load."""

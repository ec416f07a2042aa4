"""Tessera's OpenID Connect provider as an Azure Function (Python v2 programming model).

Every route goes to the provider's ASGI app through azure-functions' ASGI middleware; host.json
clears the ``/api`` route prefix so the issuer is the site's root. The provider is built from
the app settings (``TESSERA_ISSUER``, ``TESSERA_STORE``, ``TESSERA_MASTER_KEY``, the SMTP ones;
see docs/deploy.md) on the first request, and kept while the instance lives.
"""

import azure.functions as func

from tessera.issue.hosting.cloud import provider_app

app = func.AsgiFunctionApp(app=provider_app(), http_auth_level=func.AuthLevel.ANONYMOUS)

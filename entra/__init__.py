"""Sign in with Microsoft: OpenID Connect through MSAL, identities linked to portal users only explicitly."""

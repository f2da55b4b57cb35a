"""A local stand-in for Dynamics 365 F&O's OData service, built from the reference, sharing no code with the portal."""

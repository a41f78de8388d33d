"""Microsoft Graph v1.0 (Entra ID, Teams, Planner, SharePoint/OneDrive, Outlook)."""

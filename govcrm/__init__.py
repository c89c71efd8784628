"""GovCRM: citizen relationship management for governments."""

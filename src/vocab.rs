//! Controlled vocabularies: EU data themes, EU frequencies, AgID licences.

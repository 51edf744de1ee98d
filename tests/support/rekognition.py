"""Amazon Rekognition answers, as DetectModerationLabels returns them, for stubbed tests."""

from __future__ import annotations

# The seed's scenario: a photo of prescription medicine.
PILLS = [
    {"Name": "Drugs & Tobacco", "ParentName": "", "Confidence": 97.1, "TaxonomyLevel": 1},
    {"Name": "Products", "ParentName": "Drugs & Tobacco", "Confidence": 97.1, "TaxonomyLevel": 2},
    {"Name": "Pills", "ParentName": "Products", "Confidence": 96.4, "TaxonomyLevel": 3},
]
# A glass of wine: allowed by the default policy.
WINE = [
    {"Name": "Alcohol", "ParentName": "", "Confidence": 98.0, "TaxonomyLevel": 1},
    {"Name": "Alcoholic Beverages", "ParentName": "Alcohol", "Confidence": 98.0,
     "TaxonomyLevel": 2},
]  # fmt: skip

from django.urls import path

from oxytrack.compliance import views

app_name = "compliance"
urlpatterns = [
    path("settings/compliance/", views.kit, name="kit"),
    # One named page per document and language, so each is addressed (and
    # checked by the URL tests) on its own, like the policy's global page.
    *(
        path(
            f"settings/compliance/{slug}/{lang}/",
            views.document,
            {"slug": slug, "lang": lang},
            name=f"{slug}_{lang}",
        )
        for slug in views.DOCUMENTS
        for lang in views.LANGUAGES
    ),
]

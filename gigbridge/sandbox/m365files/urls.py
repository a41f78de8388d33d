from django.urls import path, re_path

from . import clock, control, filesview, tools, uploads

urlpatterns = [
    path("_sharepoint/uploadSession", uploads.upload_session, name="files-upload-session"),
    path("_sharepoint/download", uploads.download, name="files-download"),
    re_path(r"^_sharepoint/sites/(?P<rest>.*)$", uploads.site, name="files-site"),
    path("_sandbox/clock", clock.clock_view, name="files-clock"),
    path("_sandbox/lifecycle/tick", control.tick, name="files-lifecycle-tick"),
    path("_sandbox/lifecycle/remove", control.remove, name="files-lifecycle-remove"),
    path("_sandbox/notifications", control.notifications, name="files-notifications"),
    path("files/", filesview.files, name="files-viewer"),
    path("files/upload", filesview.upload, name="files-viewer-upload"),
    path("files/download", filesview.download, name="files-viewer-download"),
    path("_sandbox/files/delta/expire", tools.expire_delta, name="files-delta-expire"),
    path("_sandbox/files/upload", tools.upload, name="files-tool-upload"),
    path("_sandbox/files/reach", tools.reach, name="files-tool-reach"),
]

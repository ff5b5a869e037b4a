"""Django's admin app with the workspace as its default site (``practice/admin_site.py``).

Listed in ``INSTALLED_APPS`` in place of ``django.contrib.admin``. It lives in
a module of its own because ``INSTALLED_APPS`` is imported before any model
is loaded, and the site itself reads models.
"""

from django.contrib.admin.apps import AdminConfig


class WorkspaceAdminConfig(AdminConfig):
    default_site = "practice.admin_site.WorkspaceAdminSite"

"""REST API under /api/v1 with OpenAPI at /api/v1/openapi.json."""

from ninja import NinjaAPI

from gigbridge.access.api import router as access_router
from gigbridge.audit.api import router as audit_router
from gigbridge.engagements.api import (
    approvals_router,
    cost_centers_router,
    engagements_router,
    requests_router,
)
from gigbridge.files.api import engagement_router as engagement_files_router
from gigbridge.files.api import router as files_router
from gigbridge.people.agreements_api import router as agreements_router
from gigbridge.people.api import router as people_router
from gigbridge.program.api import router as program_router
from gigbridge.sourcing.api import router as sourcing_router
from gigbridge.web.apidocs import LocalSwagger

from . import problems
from .auth import AUTH
from .parsing import NulRefusingParser


class GigbridgeAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        # Errors are answered by exception handlers, not views, so ninja documents none:
        # add them here, once for every operation, whatever router it comes from.
        throttled = {
            operation.operation_id or self.get_openapi_operation_id(operation)
            for router in self._get_bound_routers()
            for path_view in router.path_operations.values()
            for operation in path_view.operations
            if operation.throttle_objects
        }
        return problems.document(super().get_openapi_schema(**kwargs), throttled)


api = GigbridgeAPI(
    title="Gigbridge API",
    version="1",
    description="Work requests, approvals, engagements, policy and audit. Authenticate with "
    "`Authorization: Bearer TOKEN` (create a token on your profile page or with "
    "`gigbridge token create`). Errors are application/problem+json.",
    auth=AUTH,
    parser=NulRefusingParser(),  # U+0000 in a query is a 422 naming it, not a database error
    urls_namespace="api",
    docs_url="/docs",
    docs=LocalSwagger(),  # Swagger UI from the npm lockfile, under the CSP (gigbridge.web)
)
problems.install(api)
api.add_router("/me", people_router)
api.add_router("/requests", requests_router)
api.add_router("/approvals", approvals_router)
api.add_router("/engagements", engagements_router)
api.add_router("/engagements", sourcing_router)  # the marketplace side of an engagement
api.add_router("/", program_router)
api.add_router("/cost-centers", cost_centers_router)
api.add_router("/audit", audit_router)
api.add_router("/", access_router)
api.add_router("/agreements", agreements_router)
api.add_router("/engagements", engagement_files_router)  # an engagement's deliverables
api.add_router("/deliverables", files_router)

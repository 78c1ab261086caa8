/* routes.h - api-gateway's HTTP routing table. */
#ifndef ROUTES_H
#define ROUTES_H

#include "gateway.h"

/* Builds gw->routes / gw->bound / gw->nroutes from the static table in
 * routes.c, each route's arg pointing at its struct gw_route. Returns CC_OK
 * or CC_ERR_NOMEM (nothing allocated then). Freed by routes_release. */
enum cc_status routes_build(struct api_gateway *gw);

/* Frees what routes_build made. */
void routes_release(struct api_gateway *gw);

#endif

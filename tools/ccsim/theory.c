/* theory.c - Erlang C and the ideal first-come-first-served replay. */
#include "theory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void theory_erlang_c(int c, double rate, double service_s, double sl_s, struct theory *out)
{
    double a = rate * service_s, b = 1.0; /* offered load (Erlangs), Erlang B */
    memset(out, 0, sizeof *out);
    if (c < 1 || a <= 0 || a >= c)
        return;
    for (int k = 1; k <= c; k++) /* B(k) = a B(k-1) / (k + a B(k-1)): no factorials */
        b = a * b / (k + a * b);
    double pw = c * b / (c - a * (1 - b));
    out->valid = 1;
    out->p_wait = pw;
    out->asa_s = pw * service_s / (c - a);
    out->sl = 1 - pw * exp(-(c - a) * sl_s / service_s);
    out->occupancy = a / c;
    out->aht_s = service_s;
}

/* A binary min-heap of the times the agents become free. */
static void heap_down(double *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l] < h[m])
            m = l;
        if (r < n && h[r] < h[m])
            m = r;
        if (m == i)
            return;
        double t = h[i];
        h[i] = h[m], h[m] = t;
        i = m;
    }
}

static double clip(double from, double to, double w0, double w1)
{
    double a = from > w0 ? from : w0, b = to < w1 ? to : w1;
    return b > a ? b - a : 0;
}

enum cc_status theory_replay(const struct sim_customer *cu, size_t n, int c, double wrap_s,
                             const struct theory_latency *lat, double sl_s, double w0_s,
                             double w1_s, struct theory *out)
{
    static const struct theory_latency none = {0, 0, 0};
    double *free_at = calloc((size_t)(c > 0 ? c : 1), sizeof *free_at);
    double wait_sum = 0, handle_sum = 0, busy = 0;
    long within = 0;
    memset(out, 0, sizeof *out);
    if (!free_at)
        return CC_ERR_NOMEM;
    lat = lat ? lat : &none;
    for (size_t i = 0; i < n && c > 0; i++) {
        /* first come first served: the next customer takes the first agent free */
        double offer = (free_at[0] > cu[i].arrive_s ? free_at[0] : cu[i].arrive_s) + lat->route_s;
        double wait = offer + lat->accept_s - cu[i].arrive_s;
        double until = offer + cu[i].handle_s + lat->held_s + wrap_s;
        if (cu[i].patience_s > 0 && offer - cu[i].arrive_s > cu[i].patience_s) {
            out->abandoned += cu[i].measured;
            continue;
        }
        free_at[0] = until;
        heap_down(free_at, (size_t)c, 0);
        busy += clip(offer, until, w0_s, w1_s);
        if (cu[i].measured) {
            out->answered++;
            wait_sum += wait, handle_sum += cu[i].handle_s;
            within += wait <= sl_s;
        }
    }
    free(free_at);
    long resolved = out->answered + out->abandoned;
    out->valid = c > 0 && resolved > 0;
    out->asa_s = out->answered ? wait_sum / (double)out->answered : 0;
    out->aht_s = out->answered ? handle_sum / (double)out->answered : 0;
    out->sl = resolved ? (double)within / (double)resolved : 0;
    out->abandon = resolved ? (double)out->abandoned / (double)resolved : 0;
    out->occupancy = c > 0 && w1_s > w0_s ? busy / (c * (w1_s - w0_s)) : 0;
    return CC_OK;
}

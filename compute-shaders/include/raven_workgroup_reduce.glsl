// raven_workgroup_reduce.glsl: a sum or maximum across the R_LANES invocations of a workgroup, as a
// pairwise tree in shared memory: lanes (0..31) += (32..63), then (0..15) += (16..31), ... The lane
// count is a constant of Raven, not of the device, and no subgroup operation is used, so the order of
// accumulation depends on the logical shape alone (the same on every device). Callers declare
// `layout(local_size_x = R_LANES) in;` and call these from uniform control flow.
#ifndef RAVEN_WORKGROUP_REDUCE_GLSL
#define RAVEN_WORKGROUP_REDUCE_GLSL

#define R_LANES 64u

shared float r_partial[R_LANES];

// Maximum as the CPU backend takes it: a NaN never replaces a number.
float r_max(float a, float b) { return b > a ? b : a; }

float r_workgroup_sum(float v) {
    uint lane = gl_LocalInvocationID.x;
    r_partial[lane] = v;
    barrier();
    for (uint s = R_LANES / 2u; s > 0u; s >>= 1u) {
        if (lane < s) r_partial[lane] = r_partial[lane] + r_partial[lane + s];
        barrier();
    }
    float total = r_partial[0];
    barrier();  // r_partial is reused by the next call
    return total;
}

float r_workgroup_max(float v) {
    uint lane = gl_LocalInvocationID.x;
    r_partial[lane] = v;
    barrier();
    for (uint s = R_LANES / 2u; s > 0u; s >>= 1u) {
        if (lane < s) r_partial[lane] = r_max(r_partial[lane], r_partial[lane + s]);
        barrier();
    }
    float total = r_partial[0];
    barrier();
    return total;
}

#endif

// Workgroup-wide sum and maximum for the layer shaders, by a fixed binary tree in shared memory: the
// result depends on the workgroup size (a power of two, a specialization constant chosen per device)
// and the data alone, so a run repeats bit for bit. Every invocation of the workgroup must call these
// in uniform control flow; each returns the same value to all of them.
// Expects `layout(local_size_x_id = 0) in;` (a one-dimensional workgroup) in the including shader.
shared float layerReduceScratch[gl_WorkGroupSize.x];

float workgroupSum(float value) {
    const uint lane = gl_LocalInvocationID.x;
    layerReduceScratch[lane] = value;
    barrier();
    for (uint stride = gl_WorkGroupSize.x / 2; stride > 0; stride >>= 1) {
        if (lane < stride) layerReduceScratch[lane] += layerReduceScratch[lane + stride];
        barrier();
    }
    const float total = layerReduceScratch[0];
    barrier();  // the scratch may be reused right away
    return total;
}

float workgroupMax(float value) {
    const uint lane = gl_LocalInvocationID.x;
    layerReduceScratch[lane] = value;
    barrier();
    for (uint stride = gl_WorkGroupSize.x / 2; stride > 0; stride >>= 1) {
        if (lane < stride) layerReduceScratch[lane] = max(layerReduceScratch[lane], layerReduceScratch[lane + stride]);
        barrier();
    }
    const float total = layerReduceScratch[0];
    barrier();
    return total;
}

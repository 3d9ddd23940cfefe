#version 450
// out[c] = sum over n and s of in[(n * channels + c) * spatial + s]: the bias gradient of a convolution
// (dy summed over the batch and the positions). One workgroup per channel; each invocation sums a
// fixed, strided subset in order, then a fixed tree adds the partial sums (layer_reduce.glsl).
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float inputs[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { float outputs[]; };

layout(push_constant) uniform Params { uint batch, channels, spatial; } p;

#include "layer_reduce.glsl"

void main() {
    const uint c = gl_WorkGroupID.x;
    const uint count = p.batch * p.spatial;
    float partial = 0.0;
    for (uint e = gl_LocalInvocationID.x; e < count; e += gl_WorkGroupSize.x) {
        const uint n = e / p.spatial, s = e % p.spatial;
        partial += inputs[(n * p.channels + c) * p.spatial + s];
    }
    const float total = workgroupSum(partial);
    if (gl_LocalInvocationID.x == 0) outputs[c] = total;
}

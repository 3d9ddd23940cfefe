#version 450
// One torch.optim.SGD step over one parameter (raven::SgdStepScalars in tensor/Backend.h): reads
// param, grad and the momentum buffer once, writes the new param and buffer once. The float
// operations and their order are those of the composed elementwise kernels (Backend::sgdUpdate's
// default), each result `precise` so that no multiply-add is fused. One element per invocation.
// The scalars come from a small buffer (a learning-rate schedule changes them, and a step whose
// commands stay the same is resubmitted without being recorded again: vulkan/Recorder.h); a parameter
// larger than one binding comes in several dispatches of element ranges.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Param { float param[]; };
layout(std430, set = 0, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, set = 0, binding = 2) readonly buffer Buf { float buf[]; };  // grad when not read
layout(std430, set = 0, binding = 3) writeonly buffer ParamOut { float paramOut[]; };
layout(std430, set = 0, binding = 4) writeonly buffer BufOut { float bufOut[]; };  // ParamOut without momentum

layout(push_constant) uniform Params {
    uint n;
    uint paramOffset;
    uint gradOffset;
    uint bufOffset;
    uint paramOutOffset;
    uint bufOutOffset;
    uint useMomentum;  // momentum != 0
    uint firstStep;    // no buffer yet: buf = g
    uint nesterov;
} q;
layout(std430, set = 0, binding = 5) readonly buffer Scalars {
    float lr;
    float weightDecay;
    float momentum;
    float oneMinusDampening;
} s;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= q.n) return;
    float p = param[q.paramOffset + i];
    precise float g = grad[q.gradOffset + i];
    if (s.weightDecay != 0.0) {
        precise float decay = p * s.weightDecay;
        g = g + decay;
    }
    if (q.useMomentum != 0u) {
        precise float b = g;
        if (q.firstStep == 0u) {
            precise float damped = g;
            if (s.oneMinusDampening != 1.0) damped = g * s.oneMinusDampening;
            precise float kept = buf[q.bufOffset + i] * s.momentum;
            b = kept + damped;
        }
        bufOut[q.bufOutOffset + i] = b;
        if (q.nesterov != 0u) {
            precise float ahead = b * s.momentum;
            g = g + ahead;
        } else {
            g = b;
        }
    }
    precise float stepped = g * s.lr;
    paramOut[q.paramOutOffset + i] = p - stepped;
}

#version 450
// Not a Raven shader: a multiply-add without `precise`, which glslc -O fuses into Fma. The NoContraction
// check (compute-shaders/tools/check_no_contraction.py) must reject it; its `precise` twin must pass.
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer B { float v[]; };
void main() {
    uint i = gl_GlobalInvocationID.x;
#ifdef PRECISE
    precise float y = v[i] * v[i + 1u] + v[i + 2u];
#else
    float y = v[i] * v[i + 1u] + v[i + 2u];
#endif
    v[i] = y;
}

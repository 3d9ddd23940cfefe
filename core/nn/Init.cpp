#include "nn/Init.h"

#include <cmath>

#include "tensor/TensorOps.h"

namespace raven::nn {

namespace {
Tensor symmetricUniform(const Shape& shape, double bound, Generator& gen, Backend& backend) {
    return uniform(shape, static_cast<float>(-bound), static_cast<float>(bound), gen, backend);
}
}  // namespace

Tensor initialValue(const ParameterDecl& decl, InitScheme modelScheme, Generator& gen, Backend& backend) {
    const InitScheme scheme = decl.hasScheme ? decl.scheme : modelScheme;
    const double fanIn = static_cast<double>(decl.fanIn > 0 ? decl.fanIn : 1);
    const double fanOut = static_cast<double>(decl.fanOut > 0 ? decl.fanOut : 1);
    switch (decl.role) {
        case ParameterRole::Weight:
            switch (scheme) {
                case InitScheme::KaimingUniform:
                    return symmetricUniform(decl.shape, 1.0 / std::sqrt(fanIn), gen, backend);
                case InitScheme::KaimingNormal:
                    return mulScalar(randn(decl.shape, gen, backend), static_cast<float>(std::sqrt(2.0 / fanIn)));
                case InitScheme::XavierUniform:
                    return symmetricUniform(decl.shape, std::sqrt(6.0 / (fanIn + fanOut)), gen, backend);
            }
            break;
        case ParameterRole::Bias:
            if (scheme == InitScheme::KaimingUniform)
                return symmetricUniform(decl.shape, 1.0 / std::sqrt(fanIn), gen, backend);
            return zeros(decl.shape, backend);
        case ParameterRole::XavierWeight:
            return symmetricUniform(decl.shape, std::sqrt(6.0 / (fanIn + fanOut)), gen, backend);
        case ParameterRole::Embedding:
            return randn(decl.shape, gen, backend);
        case ParameterRole::Ones:
            return ones(decl.shape, backend);
        case ParameterRole::Zeros:
            return zeros(decl.shape, backend);
    }
    return zeros(decl.shape, backend);
}

}  // namespace raven::nn

// Precompiled header of the indexer's LibTorch translation units (see indexer/CMakeLists.txt).
#pragma once

#include <torch/torch.h>

#include "kernels/gemm.hpp"

#include <string>

#include "kernels/cuda_check.hpp"

namespace kunsim::gpu {
namespace {

void check_lt(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS)
    throw CudaError(std::string("cuBLASLt: ") + what + ": status " + std::to_string(static_cast<int>(st)));
}

}  // namespace

// Column-major view of the row-major product: Y^T (n x m) = W (k x n, transposed) * X^T (k x m).
struct Gemm::Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  ~Plan() {
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

Gemm::Gemm(std::size_t workspace_bytes) : workspace_(workspace_bytes) {
  check_lt(cublasLtCreate(&handle_), "cublasLtCreate");
}

Gemm::~Gemm() {
  plans_.clear();
  if (handle_) cublasLtDestroy(handle_);
}

const Gemm::Plan& Gemm::plan(int m, int n, int k) {
  auto& slot = plans_[{m, n, k}];
  if (slot) return *slot;
  auto p = std::make_unique<Plan>();
  check_lt(cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul descriptor");
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  check_lt(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)), "TRANSA");
  check_lt(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)), "TRANSB");
  check_lt(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16BF, k, n, k), "layout W");
  check_lt(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16BF, k, m, k), "layout X");
  check_lt(cublasLtMatrixLayoutCreate(&p->d, CUDA_R_16BF, n, m, n), "layout Y");
  cublasLtMatmulPreference_t pref = nullptr;
  check_lt(cublasLtMatmulPreferenceCreate(&pref), "preference");
  const std::size_t ws = workspace_.bytes();
  check_lt(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)),
           "workspace preference");
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(handle_, p->op, p->a, p->b, p->d, p->d, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  check_lt(st, "heuristic");
  if (found == 0)
    throw CudaError("cuBLASLt: no algorithm for " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
  p->algo = result.algo;
  slot = std::move(p);
  return *slot;
}

void Gemm::linear(const bf16* x, const bf16* w, bf16* y, int m, int n, int k, cudaStream_t s) {
  if (m == 0) return;
  const Plan& p = plan(m, n, k);
  const float alpha = 1.f, beta = 0.f;
  check_lt(cublasLtMatmul(handle_, p.op, &alpha, w, p.a, x, p.b, &beta, y, p.d, y, p.d, &p.algo, workspace_.get(),
                          workspace_.bytes(), s),
           "matmul");
}

}  // namespace kunsim::gpu

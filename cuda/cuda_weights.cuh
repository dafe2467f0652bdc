// Weight placement for the CUDA engine: which stored tensors make each layer, where each lands in
// a layer "slot" (one device allocation per layer, same layout for every layer), and how the
// bytes get there: mmapped file -> pinned staging -> device (raw bytes) -> dequantised into the
// compute layout on the device (cuda_dequant.cu), with the same canonical transforms as
// Model::canonical_f32 (Conv1D transpose, GGUF Llama Q/K un-permutation) and the same fusions
// as cpu_backend.cpp (q|k|v rows into one matrix, gate|up rows into one matrix).
// Resident mode: L slots loaded once. Streaming mode: 2 slots; layer l+1 is staged by the host and
// copied + dequantised on a separate copy stream while layer l computes (events order the copy of
// a slot after the compute that last read it, and the compute after the copy).
// Matrices are stored as StoreType of the precision; norm weights and biases as f32. Stored types
// without a device decoder (Q2_K/Q3_K/Q5_K/Q8_K, integers) are converted on the host with
// Model::read_f32 and uploaded as f32.
// Not here: the memory-budget decision (cuda_backend.cpp), compute.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_ops.cuh"
#include "cuda/cuda_util.cuh"
#include "fingerprint/model/model.h"

namespace modelprint::cuda {

// Device pointers of one layer's weights inside a slot (null where the model has none).
struct LayerView {
    const float* attn_norm_w = nullptr;  // (C)
    const float* attn_norm_b = nullptr;  // (C)
    const void* qkv_w = nullptr;         // (QD + 2*KVD, C) StoreType
    const float* qkv_b = nullptr;        // (QD + 2*KVD)
    const float* q_norm = nullptr;       // (HS)
    const float* k_norm = nullptr;       // (HS)
    const void* o_w = nullptr;           // (C, QD)
    const float* o_b = nullptr;          // (C)
    const float* ffn_norm_w = nullptr;   // (C)
    const float* ffn_norm_b = nullptr;   // (C)
    const void* up_w = nullptr;          // (FFW, C): gated: gate rows then up rows
    const float* up_b = nullptr;         // (FFW)
    const void* down_w = nullptr;        // (C, FF)
    const float* down_b = nullptr;       // (C)
};

// Global tensors on the device.
struct GlobalView {
    const void* tok_embd = nullptr;    // (V, C) StoreType
    const void* output = nullptr;      // (V, C) StoreType (== tok_embd when tied)
    const float* out_norm_w = nullptr; // (C)
    const float* out_norm_b = nullptr; // (C) or null
    const float* pos_embd = nullptr;   // (maxpos, C) or null
    int64_t pos_rows = 0;
};

class WeightStore {
public:
    // Validates every tensor the architecture needs (presence and canonical shape, messages as
    // the CPU engine's) and plans the slot layout. Touches no device memory.
    static Result<std::unique_ptr<WeightStore>> plan(const Model& model, StoreType store);
    ~WeightStore();

    uint64_t slot_bytes() const { return slot_bytes_; }       // one layer, compute layout
    uint64_t raw_bytes() const { return raw_bytes_; }         // device bytes before dequant
    uint64_t staging_bytes() const { return staging_bytes_; } // pinned host bytes per layer
    uint64_t global_bytes() const { return global_bytes_; }   // globals, compute layout

    // Uploads the globals (synchronously on `stream`).
    Status load_globals(cudaStream_t stream);
    const GlobalView& globals() const { return globals_; }

    // Resident: allocates L slots and loads every layer (synchronously).
    Status load_resident(cudaStream_t stream);
    // Streaming: allocates 2 slots, pinned staging and the copy stream.
    Status init_streaming();
    bool streaming() const { return streaming_; }

    // Makes layer l available to work queued on `compute` after this call; in streaming mode it
    // also queues the copy of layer l+1 (when l+1 < L) behind it. release(l) after the layer's
    // kernels are queued.
    Result<LayerView> acquire(int l, cudaStream_t compute);
    Status release(int l, cudaStream_t compute);

    // One stored tensor and where it lands.
    struct Piece {
        const TensorInfo* t = nullptr;
        std::string name;          // canonical name, for messages
        uint64_t dst_off = 0;      // byte offset in the slot / global buffer
        StoreType dst_type = StoreType::kF32;
        RowMap map = RowMap::kIdentity;
        int64_t hs = 0;            // head size for kUnpermute
        int64_t rows = 0, cols = 0;  // stored 2-D view
        StoredKind kind = StoredKind::kF32;
        bool host_convert = false; // converted to f32 on the host first
        bool direct = false;       // copied straight into the destination (same type, identity)
        uint64_t host_bytes = 0;   // bytes staged
        uint64_t staging_off = 0, raw_off = 0;
    };

private:
    WeightStore(const Model& model, StoreType store) : model_(model), store_(store) {}
    Status stage_and_copy(int l, uint8_t* slot, uint8_t* raw, PinnedBuffer* staging,
                          cudaStream_t stream);
    Status queue_stream_load(int l);
    LayerView view(const uint8_t* slot) const;
    Status add_piece(std::vector<Piece>* pieces, uint64_t* bytes, int field, Role role, int layer,
                     bool bias, std::vector<int64_t> expect, int64_t row_offset);

    const Model& model_;
    StoreType store_;
    std::vector<std::vector<Piece>> layer_pieces_;  // (L)
    std::vector<Piece> global_pieces_;
    uint64_t slot_bytes_ = 0, raw_bytes_ = 0, staging_bytes_ = 0, global_bytes_ = 0;
    // Byte offsets of LayerView fields in a slot (UINT64_MAX: absent).
    std::vector<uint64_t> field_off_;
    std::vector<uint64_t> global_off_;
    DeviceBuffer global_buf_;
    GlobalView globals_;
    bool streaming_ = false;
    std::vector<DeviceBuffer> slots_;  // L (resident) or 2 (streaming)
    DeviceBuffer raw_[2];
    PinnedBuffer staging_[2];
    Stream copy_stream_;
    Event ready_[2], free_[2], staged_[2];
    std::vector<int> slot_layer_;  // streaming: layer held (or being loaded) by each slot, -1
};

}  // namespace modelprint::cuda

// Memory a handle shares with JS as one external ArrayBuffer (a ring, UMEM, mbufs, send buffers):
// the ArrayBuffer is detached before the memory goes, so no JS view ever reads unmapped memory.
// Where it cannot be detached, the handle leaves the memory in place: a leak, never a read of
// freed memory.
#ifndef CAPBENCH_EXTERNAL_AREA_H
#define CAPBENCH_EXTERNAL_AREA_H

#include <napi.h>

#include <cstddef>

class ExternalArea {
public:
	// Throws if the ArrayBuffer cannot be made; the caller then frees the memory itself.
	void Share(Napi::Env env, void *data, size_t len)
	{
		buffer_ = Napi::Persistent(Napi::ArrayBuffer::New(env, data, len));
	}

	// The ArrayBuffer; after Detach, the same one, empty (byteLength 0).
	Napi::Value Value() const { return buffer_.Value(); }

	// From close(): throws if it cannot detach, and then the memory must stay.
	void Detach()
	{
		if (!detached_) {
			buffer_.Value().Detach();
			detached_ = true;
		}
	}

	// From a finalizer, where nothing may throw: whether the ArrayBuffer is detached now.
	bool DetachQuietly(Napi::Env env)
	{
		napi_value ab = nullptr;
		if (!detached_ && napi_get_reference_value(env, buffer_, &ab) == napi_ok && ab &&
		    napi_detach_arraybuffer(env, ab) == napi_ok)
			detached_ = true;
		return detached_;
	}

	bool Detached() const { return detached_; }

private:
	Napi::Reference<Napi::ArrayBuffer> buffer_;
	bool detached_ = false;
};

#endif

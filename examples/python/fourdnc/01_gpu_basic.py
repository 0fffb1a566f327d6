from n4d.fourdnc.gpu_acceleration import GPUAccelerator

# Initialize GPU accelerator
accelerator = GPUAccelerator(use_gpu=True, device_id=0)

# Check if GPU is available
if accelerator.is_gpu_available():
    print(f"GPU acceleration enabled")
else:
    print("Falling back to CPU")

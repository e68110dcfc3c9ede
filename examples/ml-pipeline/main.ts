// The ML pipeline example: the camera's frames (its moving test pattern unless a camera is
// allowed) go by fd to an ML module on a device of its own, TensorFlow.js's WebGPU backend
// there, which tints the bright regions it finds; a view draws the result beside the camera.
import 'webgpu-dmabuf/elements/define';
import '@tensorflow/tfjs-backend-webgpu';
import { MlMask } from './ml-mask.js';

customElements.define('ml-mask', MlMask);

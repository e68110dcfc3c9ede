// The two shaders of the flock, shared by both modes: the same source compiled on each device
// is what makes one device and two devices comparable byte for byte.

/**
 * One simulation step: reads every particle of `current`, writes its successor into `next`
 * (the ping-pong partner, so no invocation reads what another is writing). Each boid steers
 * towards the centre of its neighbours (cohesion), away from those too close (separation)
 * and towards their mean velocity (alignment); its speed is capped and the square wraps
 * around as a torus. Binding 0 is `RULES` (params.ts), 32 bytes.
 */
export const SIMULATION_WGSL = /* wgsl */ `
struct Particle {
  pos: vec2f,
  vel: vec2f,
}

struct Rules {
  dt: f32,
  cohesionRadius: f32,
  separationRadius: f32,
  alignmentRadius: f32,
  cohesionWeight: f32,
  separationWeight: f32,
  alignmentWeight: f32,
  maxSpeed: f32,
}

@group(0) @binding(0) var<uniform> rules: Rules;
@group(0) @binding(1) var<storage, read> current: array<Particle>;
@group(0) @binding(2) var<storage, read_write> next: array<Particle>;

@compute @workgroup_size(64)
fn step(@builtin(global_invocation_id) id: vec3u) {
  let count = arrayLength(&current);
  let i = id.x;
  if (i >= count) {
    return;
  }
  let me = current[i];

  var centre = vec2f(0.0);
  var flockmates = 0u;
  var push = vec2f(0.0);
  var heading = vec2f(0.0);
  var aligned = 0u;
  for (var j = 0u; j < count; j++) {
    if (j == i) {
      continue;
    }
    let other = current[j];
    let offset = other.pos - me.pos;
    let d = length(offset);
    if (d < rules.cohesionRadius) {
      centre += other.pos;
      flockmates++;
    }
    if (d < rules.separationRadius) {
      // Closer neighbours push harder; the weight falls to zero at the radius.
      push -= offset * (1.0 - d / rules.separationRadius);
    }
    if (d < rules.alignmentRadius) {
      heading += other.vel;
      aligned++;
    }
  }

  var vel = me.vel;
  if (flockmates > 0u) {
    vel += (centre / f32(flockmates) - me.pos) * rules.cohesionWeight;
  }
  vel += push * rules.separationWeight;
  if (aligned > 0u) {
    vel += (heading / f32(aligned) - me.vel) * rules.alignmentWeight;
  }
  let speed = length(vel);
  if (speed > rules.maxSpeed) {
    vel *= rules.maxSpeed / speed;
  }
  // Wrap into [-1, 1): leaving one edge enters at the opposite one.
  let moved = me.pos + vel * rules.dt;
  next[i] = Particle(moved - 2.0 * floor((moved + 1.0) * 0.5), vel);
}
`;

/**
 * The flock's picture: one instance per particle (the particle buffer is the instance vertex
 * buffer: position at location 0, velocity at location 1), three vertices each, a dart
 * pointing along the velocity and coloured by its heading.
 */
export const RENDER_WGSL = /* wgsl */ `
struct Varyings {
  @builtin(position) position: vec4f,
  @location(0) colour: vec3f,
}

@vertex
fn dart(@builtin(vertex_index) corner: u32, @location(0) pos: vec2f, @location(1) vel: vec2f) -> Varyings {
  // Nose at +x, tail at -x: rotated below onto the velocity.
  var shape = array<vec2f, 3>(vec2f(0.035, 0.0), vec2f(-0.02, 0.014), vec2f(-0.02, -0.014));
  let speed = length(vel);
  let dir = select(vec2f(1.0, 0.0), vel / speed, speed > 1e-6);
  let p = shape[corner];
  var out: Varyings;
  out.position = vec4f(pos + vec2f(p.x * dir.x - p.y * dir.y, p.x * dir.y + p.y * dir.x), 0.0, 1.0);
  out.colour = vec3f(0.55 + 0.45 * dir.x, 0.55 + 0.45 * dir.y, 0.95);
  return out;
}

@fragment
fn fill(in: Varyings) -> @location(0) vec4f {
  return vec4f(in.colour, 1.0);
}
`;

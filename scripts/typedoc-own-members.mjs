// TypeDoc plugin: a class or interface of this package lists its own members and those it
// inherits from another of its types (DmabufFilter from DmabufModule), not every member it
// inherits from the platform or a library (an element's HTMLElement, LitElement and
// ReactiveElement members, an event's Event members). Its base type stays linked, to MDN or
// Lit's reference, and the members it overrides stay.
import { Converter, DeclarationReflection, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const { project } = context;
    for (const owner of project.getReflectionsByKind(ReflectionKind.ClassOrInterface)) {
      if (!(owner instanceof DeclarationReflection)) continue;
      for (const member of [...(owner.children ?? [])]) {
        if (!member.inheritedFrom) continue;
        // An inherited member's symbol is the base type's: where that is declared says whose it is.
        const id = project.getSymbolIdFromReflection(member);
        if (id !== undefined && id.packageName !== project.packageName) project.removeReflection(member);
      }
    }
  });
}

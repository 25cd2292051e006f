"""JSON documents of a genealogy and a verdict, shared by the commands and the API. A mass the
caller may not know (``custody.selectors.disclosure``) is null."""


def _kg(mass) -> str | None:
    return None if mass is None else str(mass)


def genealogy_document(genealogy, shares) -> dict:
    root = genealogy.root
    document = {
        "lot": root.code,
        "direction": genealogy.direction,
        "lots": [
            {
                "code": node.code,
                "material": node.material,
                "mass_kg": _kg(node.mass_kg),
                "status": node.status,
                "custodian": node.custodian,
                "country": node.country,
                "depth": node.depth,
            }
            for node in genealogy.nodes
        ],
    }
    codes = {node.id: node.code for node in genealogy.nodes} | {root.pk: root.code}
    document["links"] = [
        {"parent": codes[parent], "child": codes[child], "mass_kg": _kg(mass)}
        for parent, child, mass in genealogy.links
        if parent in codes and child in codes
    ]
    if shares is not None:
        document["contributions"] = [
            {
                "pickup": row.lot.code,
                "data_center": str(row.lot.source_facility),
                "share": row.share,
                "mass_kg": str(row.mass_kg),
            }
            for row in shares.pickups
        ]
        document["unknown_origin"] = [row.lot.code for row in shares.unknown_origin]
    return document


def verdict_document(verdict) -> dict:
    return {
        "lot": verdict.lot.code,
        "outcome": verdict.outcome,
        "policy": {
            "name": verdict.policy.name,
            "slug": verdict.policy.slug,
            "version": verdict.policy.number,
        },
        "assessed_at": verdict.assessed_at.isoformat(),
        "findings": [finding.as_dict() for finding in verdict.findings],
        "pickups": [
            {"lot": code, "data_center": name, "share": share}
            for code, name, share in verdict.pickups
        ],
        "data_centers": [{"name": name, "share": share} for name, share in verdict.data_centers],
        "countries": verdict.countries,
        "facilities": verdict.facilities,
        "mass_balance": [
            {
                "kind": step.kind,
                "facility": step.facility,
                "occurred_at": step.occurred_at.isoformat(),
                "mass_in_kg": _kg(step.mass_in_kg),
                "mass_out_kg": _kg(step.mass_out_kg),
                "residue_kg": _kg(step.residue_kg),
                "loss_kg": _kg(step.loss_kg),
                "lots_in": list(step.lots_in),
                "lots_out": list(step.lots_out),
            }
            for step in verdict.mass_balance
        ],
        "accepted_certifications": [
            accepted.as_dict() for accepted in verdict.accepted_certifications
        ],
    }

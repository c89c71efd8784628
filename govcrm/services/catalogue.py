# ruff: noqa: E501 — reference data: the bilingual texts read better unbroken
"""The three online service items shipped with GovCRM, with their forms (JSON Schema).

Loaded (created or updated by code) by `govcrm services_load`, together with the process files in
`processes/`. Units are found by code (`market`, `police`, `civil` in the demo city); a deployment
points them at its own units in the admin afterwards. A property with `x-sensitive` is stored
encrypted and shown masked (actions.application_submit); it never enters the workflow data.
"""

from __future__ import annotations

ID_NUMBER = {
    "type": "string", "title": "公民身份号码", "x-title-en": "Resident ID number", "x-sensitive": True,
    "pattern": "^[0-9]{17}[0-9Xx]$", "maxLength": 18,
    "x-pattern-message-zh": "请输入18位公民身份号码。", "x-pattern-message-en": "Enter the 18-character resident ID number.",
}
NAME = {"type": "string", "title": "姓名", "x-title-en": "Full name", "maxLength": 50}
ADDRESS = {"type": "string", "title": "居住地址", "x-title-en": "Address of residence", "maxLength": 200}

ITEMS = [
    {
        "code": "business-licence-change", "unit": "market", "process_key": "business_licence_change",
        "name_zh": "营业执照变更登记", "name_en": "Business licence change",
        "description_zh": "市场主体的名称、住所、经营范围、法定代表人或注册资本发生变化的，应当自作出变更决议之日起30日内申请变更登记。",
        "description_en": "A business whose name, address, scope, legal representative or registered capital changes applies "
                          "for the change within 30 days of the decision.",
        "legal_basis": "《中华人民共和国市场主体登记管理条例》第二十四条；《市场主体登记管理条例实施细则》",
        "legal_basis_en": "Regulations on the Registration of Market Entities, art. 24, and its implementing rules",
        "fee": "免费", "fee_en": "Free of charge", "time_limit_days": 3, "channels": ["online", "counter"],
        "tags": ["business"],
        "materials": [
            {"key": "resolution", "name_zh": "变更决议或决定", "name_en": "Resolution on the change", "required": True},
            {"key": "licence", "name_zh": "营业执照正副本", "name_en": "Business licence (original and copy)", "required": True},
            {"key": "proof", "name_zh": "新住所使用证明（变更住所时）", "name_en": "Proof of the new premises (address change)",
             "required": False},
        ],
        "form_schema": {
            "type": "object", "required": ["company_name", "credit_code", "change_type", "change_details"],
            "properties": {
                "company_name": {"type": "string", "title": "企业名称", "x-title-en": "Company name", "maxLength": 100},
                "credit_code": {"type": "string", "title": "统一社会信用代码", "x-title-en": "Unified social credit code",
                                "pattern": "^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$", "maxLength": 18,
                                "x-pattern-message-zh": "请输入18位统一社会信用代码。",
                                "x-pattern-message-en": "Enter the 18-character unified social credit code."},
                "change_type": {"type": "string", "title": "变更事项", "x-title-en": "What changes",
                                "enum": ["name", "address", "business_scope", "legal_representative", "registered_capital"],
                                "x-enum-zh": ["名称", "住所", "经营范围", "法定代表人", "注册资本"],
                                "x-enum-en": ["Name", "Address", "Business scope", "Legal representative",
                                              "Registered capital"]},
                "change_details": {"type": "string", "title": "变更内容（变更前/变更后）",
                                   "x-title-en": "The change (before / after)", "maxLength": 2000, "x-widget": "textarea"},
                "contact_name": {"type": "string", "title": "联系人", "x-title-en": "Contact person", "maxLength": 50},
            },
        },
    },
    {
        "code": "residence-permit", "unit": "police", "process_key": "residence_permit",
        "name_zh": "居住证申领", "name_en": "Residence permit",
        "description_zh": "离开常住户口所在地，到本市居住半年以上，符合有合法稳定就业、合法稳定住所、连续就读条件之一的公民，可以申领居住证。",
        "description_en": "A citizen who has lived in the city for six months or more, away from their household registration, "
                          "and has stable employment, stable housing or is studying here, may apply for a residence permit.",
        "legal_basis": "《居住证暂行条例》第九条、第十条",
        "legal_basis_en": "Interim Regulations on Residence Permits, art. 9 and 10",
        "fee": "首次申领免费", "fee_en": "Free for the first permit", "time_limit_days": 15,
        "channels": ["online", "counter"], "tags": ["residence", "housing"],
        "materials": [
            {"key": "id_card", "name_zh": "居民身份证", "name_en": "Resident ID card", "required": True},
            {"key": "photo", "name_zh": "近期免冠证件照片", "name_en": "Recent passport-style photo", "required": True},
            {"key": "basis", "name_zh": "劳动合同、房屋租赁合同或就读证明", "name_en":
             "Employment contract, tenancy agreement or proof of study", "required": True},
        ],
        "form_schema": {
            "type": "object", "required": ["name", "id_number", "address", "resident_since", "basis"],
            "properties": {
                "name": NAME, "id_number": ID_NUMBER, "address": ADDRESS,
                "resident_since": {"type": "string", "format": "date", "title": "在本市居住起始日期",
                                   "x-title-en": "Living in the city since"},
                "basis": {"type": "string", "title": "申领依据", "x-title-en": "Basis of the application",
                          "enum": ["employment", "housing", "study", "other"],
                          "x-enum-zh": ["合法稳定就业", "合法稳定住所", "连续就读", "其他"],
                          "x-enum-en": ["Stable employment", "Stable housing", "Studying", "Other"]},
                "employer": {"type": "string", "title": "工作单位或学校", "x-title-en": "Employer or school",
                             "maxLength": 100},
            },
        },
    },
    {
        "code": "senior-allowance", "unit": "civil", "process_key": "senior_allowance",
        "name_zh": "高龄津贴申领", "name_en": "Senior allowance",
        "description_zh": "本市户籍满5年、年满80周岁的老年人，按年龄段每月领取高龄津贴：80–89岁100元，90–99岁300元，100岁以上500元。",
        "description_en": "Residents of the city for five years or more who are 80 or over receive a monthly allowance: "
                          "100 yuan at 80–89, 300 yuan at 90–99, 500 yuan from 100.",
        "legal_basis": "《中华人民共和国老年人权益保障法》第三十三条；本市高龄津贴发放办法",
        "legal_basis_en": "Law on the Protection of the Rights and Interests of the Elderly, art. 33; the city's senior "
                          "allowance rules",
        "fee": "免费", "fee_en": "Free of charge", "time_limit_days": 20, "channels": ["online", "counter"],
        "tags": ["elderly", "family"],
        "materials": [
            {"key": "id_card", "name_zh": "申请人居民身份证", "name_en": "The applicant's ID card", "required": True},
            {"key": "hukou", "name_zh": "户口簿", "name_en": "Household register", "required": True},
            {"key": "proxy", "name_zh": "代办人身份证及委托书（代办时）", "name_en":
             "Proxy's ID card and authorisation (when applying for someone)", "required": False},
        ],
        "form_schema": {
            "type": "object", "required": ["name", "id_number", "address", "residence_years"],
            "properties": {
                "name": {**NAME, "title": "老人姓名", "x-title-en": "Name of the senior"},
                "id_number": ID_NUMBER, "address": ADDRESS,
                "residence_years": {"type": "integer", "minimum": 0, "maximum": 130, "title": "本市户籍年限（年）",
                                    "x-title-en": "Years registered in the city"},
                "applicant_relation": {"type": "string", "title": "申请人与老人关系", "x-title-en":
                                       "Applicant's relation to the senior",
                                       "enum": ["self", "child", "spouse", "other"],
                                       "x-enum-zh": ["本人", "子女", "配偶", "其他"],
                                       "x-enum-en": ["Self", "Child", "Spouse", "Other"]},
            },
        },
    },
]
